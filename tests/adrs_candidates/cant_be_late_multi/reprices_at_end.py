"""The published bill prices every spot tick of a run at the first spot price of the
region the run ENDS in. Plays the starter strategy, then, in the tick the job is done,
moves to the region with the cheapest spot price: the whole run is repriced."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class RepricesAtEnd(MultiRegionStrategy):
    NAME = "reprices_at_end"

    def _behind(self):
        t, c0, r0 = self.env.elapsed_seconds, self.task_duration, self.deadline
        if r0 <= t:
            return True
        if t == 0:
            return False
        return c0 - (c0 - sum(self.task_done_time)) < t * (c0 / r0)

    def _step(self, last_cluster_type, has_spot):
        if self.task_done:
            # get_constant_cost_map() is the price map the published bill uses.
            spot_price = {}
            for region in range(self.env.get_num_regions()):
                self.env.switch_region(region)
                spot_price[region] = self.env.get_constant_cost_map()[ClusterType.SPOT]
            self.env.switch_region(min(spot_price, key=spot_price.get))
            return ClusterType.NONE
        if self._behind():
            return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND
        if has_spot:
            return ClusterType.SPOT
        here = self.env.get_current_region()
        self.env.switch_region((here + 1) % self.env.get_num_regions())
        return ClusterType.NONE
