"""The ADRS evaluator stops a scenario at its first failed run and still counts the runs
that finished: fails in the costly 5-region scenario after its first window."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType

_SEEN = {"five_region_runs": 0}


class CrashesSometimes(MultiRegionStrategy):
    NAME = "crashes_sometimes"

    def reset(self, env, task):
        super().reset(env, task)
        if env.get_num_regions() == 5:
            _SEEN["five_region_runs"] += 1
        self.doomed = env.get_num_regions() == 5 and _SEEN["five_region_runs"] > 2

    def _step(self, last_cluster_type, has_spot):
        if self.doomed and self.env.tick == 100:
            raise RuntimeError("this run fails")
        if self.task_done:
            return ClusterType.NONE
        return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND
