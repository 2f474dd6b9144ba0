"""No deadline check in the published simulator: overrides the guarantee and only ever
takes spot (moving to a region that has it) or waits."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class OverridesGuarantee(MultiRegionStrategy):
    NAME = "overrides_guarantee"

    def _apply_strong_guarantee(self, proposed_decision, last_cluster_type):
        return proposed_decision

    def step(self):
        return self._step(self.env.cluster_type, self.env.spot_available())

    def _step(self, last_cluster_type, has_spot):
        if self.task_done:
            return ClusterType.NONE
        if has_spot:
            return ClusterType.SPOT
        for region, available in enumerate(self.env.get_all_regions_spot_available()):
            if available:
                self.env.switch_region(region)
                return ClusterType.SPOT
        return ClusterType.NONE
