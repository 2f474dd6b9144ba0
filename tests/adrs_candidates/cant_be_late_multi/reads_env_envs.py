"""The published MultiTraceEnv keeps every region's whole trace (env.envs[i].trace):
waits in the region whose spot comes back soonest."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class Clairvoyant(MultiRegionStrategy):
    NAME = "clairvoyant_envs"

    def _step(self, last_cluster_type, has_spot):
        if self.task_done:
            return ClusterType.NONE
        tick = self.env.tick
        soonest = min(range(self.env.get_num_regions()),
                      key=lambda r: next((i for i, gone in enumerate(self.env.envs[r].trace[tick:])
                                          if not gone), 10**6))
        self.env.switch_region(soonest)
        return ClusterType.SPOT if self.env.spot_available() else ClusterType.NONE
