"""Honest counterpart of overrides_guarantee.py: the same proposals, no overrides."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class SpotAnywhere(MultiRegionStrategy):
    NAME = "spot_anywhere"

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
