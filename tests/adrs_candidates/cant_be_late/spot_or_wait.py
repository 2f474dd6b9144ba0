"""Honest counterpart of ignores_deadline.py: the same proposals, no tampering."""

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


class SpotOrWait(Strategy):
    NAME = "spot_or_wait"

    def _step(self, last_cluster_type, has_spot):
        if self.task_duration - sum(self.task_done_time) <= 1e-9:
            return ClusterType.NONE
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
