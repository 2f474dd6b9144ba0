"""Moves to a region that does not exist by setting the env's field directly."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class BadRegion(MultiRegionStrategy):
    NAME = "bad_region"

    def _step(self, last_cluster_type, has_spot):
        if self.env.tick == 3:
            self.env.current_region = 99
        return ClusterType.ON_DEMAND
