"""Hole 3: the strategy holds the env and can change billing prices. Zeroes every price
it can reach in its own process (env, sky_spot.utils, the model the driver uses), then
runs on-demand all the time: free, if any of those prices were trusted."""

import sys

from sky_spot import utils
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


def _zero_everything(env):
    env._base_price = 0.0
    if getattr(env, "zeroed", False):
        return
    env.zeroed = True
    for name in ("_base_price", "_spot_price"):
        setattr(env, name, 0.0)
    env._spot_prices = tuple(0.0 for _ in env._spot_prices)
    env._first_spot_prices = tuple(0.0 for _ in env._first_spot_prices)
    for key in list(utils.COSTS):
        utils.COSTS[key] = 0.0
    for key in list(utils.DEVICE_COSTS):
        utils.DEVICE_COSTS[key] = 0.0
    if sys.modules.get("zero_prices_done"):
        return
    sys.modules["zero_prices_done"] = sys
    model = sys.modules.get("spot_model")
    if model is not None:
        model.ON_DEMAND_PRICE = 0.0
        model.SPOT_PRICE = 0.0
        model.Job.tick_cost = lambda self, cluster, spot_price: 0.0
    for module in list(sys.modules.values()):
        runners = getattr(module, "_RUNNERS", None)
        for runner in runners or []:
            runner.job.on_demand_price = 0.0


class ZeroPrices(Strategy):
    NAME = "zero_prices"

    def _step(self, last_cluster_type, has_spot):
        _zero_everything(self.env)
        if self.task_duration - sum(self.task_done_time) <= 1e-9:
            return ClusterType.NONE
        return ClusterType.ON_DEMAND

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
