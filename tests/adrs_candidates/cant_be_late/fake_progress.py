"""Hole 2: the strategy owns task_done_time, the published progress record. Claims the
whole job done at the first tick, then idles (the published run ends at once, cost 0)."""

from sky_spot.strategies import strategy
from sky_spot.utils import ClusterType


class FakeProgress(strategy.Strategy):
    NAME = "fake_progress"

    def _step(self, last_cluster_type, has_spot):
        if sum(self.task_done_time) < self.task_duration:
            self.task_done_time.append(self.task_duration)
        self.remaining_restart_overhead = 0.0
        return ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
