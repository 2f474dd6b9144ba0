"""Hole 4: nothing checks the deadline, and a strategy that overrides the guarantee
finishes 20-40 h late at a spot-only price. Overrides step and _apply_strong_guarantee
and only ever takes spot or waits."""

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


class OverridesGuarantee(Strategy):
    NAME = "overrides_guarantee"

    def _apply_strong_guarantee(self, proposed_decision, last_cluster_type):
        return proposed_decision

    def step(self):
        return self._step(self.env.cluster_type, self.env.spot_available())

    def _step(self, last_cluster_type, has_spot):
        if self.task_duration - sum(self.task_done_time) <= 1e-9:
            return ClusterType.NONE
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
