"""Greedy spot strategy with a deadline safety margin (the ADRS "can't be late" seed).

Uses spot whenever it is available and waits otherwise, until the work left (plus one
or two restarts) no longer fits comfortably in the whole ticks left before the
deadline; then it keeps a running spot instance or switches to on-demand.
"""

import math

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


# EVOLVE-BLOCK-START
class GreedySafetyStrategy(Strategy):
    NAME = "greedy_safety"

    def _step(self, last_cluster_type: ClusterType, has_spot: bool) -> ClusterType:
        env = self.env
        gap = env.gap_seconds
        work_left = self.task_duration - sum(self.task_done_time)
        if work_left <= 1e-9:
            return ClusterType.NONE

        # Whole ticks left before the deadline, and ticks needed with one or two restarts.
        ticks_left = max(0, math.floor((self.deadline - env.elapsed_seconds) / gap))
        need_one_restart = math.ceil((work_left + self.restart_overhead) / gap)
        need_two_restarts = math.ceil((work_left + 2 * self.restart_overhead) / gap)

        if need_one_restart >= ticks_left:
            return ClusterType.ON_DEMAND
        if need_two_restarts >= ticks_left:
            # Only a spot instance that is running now is worth keeping this close.
            if env.cluster_type == ClusterType.SPOT and has_spot:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return ClusterType.SPOT if has_spot else ClusterType.NONE
# EVOLVE-BLOCK-END

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
