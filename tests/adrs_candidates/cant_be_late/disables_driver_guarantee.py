"""Hole 4, one step further: also switches the guarantee off in the model the driver in
its own process uses, so the driver believes the run rides spot to the end."""

import sys

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


def _no_guarantee(job, tick, done, last, overhead_left, proposed):
    return proposed


for _module in list(sys.modules.values()):
    if getattr(_module, "guarantee", None) is not None:
        _module.guarantee = _no_guarantee


class DisablesDriverGuarantee(Strategy):
    NAME = "disables_driver_guarantee"

    def _step(self, last_cluster_type, has_spot):
        if self.task_duration - sum(self.task_done_time) <= 1e-9:
            return ClusterType.NONE
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
