"""Uniform Progress (Can't Be Late, NSDI'24): keep progress on the straight line from
zero to the whole job at the deadline.

Spot whenever it is available; when idle and behind the line, run on-demand; once on
on-demand, stay until two restarts' worth ahead of the line; on-demand for good once
the work left no longer fits in the ticks left.
"""

import math

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


# EVOLVE-BLOCK-START
class UniformProgressStrategy(Strategy):
    NAME = "uniform_progress"

    def _behind(self, seconds_ahead: float) -> float:
        """Work the straight line expects by ``seconds_ahead`` from now, minus work done."""
        done = self.task_duration - self._remaining()
        at = self.env.elapsed_seconds + seconds_ahead
        return at * self.task_duration / self.deadline - done

    def _remaining(self) -> float:
        return self.task_duration - sum(self.task_done_time)

    def _step(self, last_cluster_type: ClusterType, has_spot: bool) -> ClusterType:
        env = self.env
        remaining = self._remaining()
        if remaining <= 1e-3:
            return ClusterType.NONE

        choice = ClusterType.SPOT if has_spot else ClusterType.NONE
        if self._behind(0) > 0:
            choice = ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND
        if env.cluster_type == ClusterType.ON_DEMAND and self._behind(2 * self.restart_overhead) >= 0:
            choice = ClusterType.ON_DEMAND

        need_ticks = math.ceil((remaining + self.restart_overhead) / env.gap_seconds)
        ticks_left = math.floor((self.deadline - env.elapsed_seconds) / env.gap_seconds)
        if need_ticks >= ticks_left:
            return ClusterType.ON_DEMAND
        if has_spot:
            return ClusterType.SPOT
        return choice
# EVOLVE-BLOCK-END

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
