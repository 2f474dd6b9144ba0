"""Hole 1: the ADRS evaluator reads the cost from the first stdout line with 'mean:'.
Prints a zero cost first, then behaves like the greedy seed."""

import math

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType

print("mean: 0.0; std: 0.0; worst 1%: 0.0; worst 10%: 0.0", flush=True)


class PrintsZeroCost(Strategy):
    NAME = "prints_zero_cost"

    def reset(self, env, task):
        super().reset(env, task)
        print("mean: 0.0; std: 0.0")

    def _step(self, last_cluster_type, has_spot):
        gap = self.env.gap_seconds
        work_left = self.task_duration - sum(self.task_done_time)
        if work_left <= 1e-9:
            return ClusterType.NONE
        ticks_left = max(0, math.floor((self.deadline - self.env.elapsed_seconds) / gap))
        if math.ceil((work_left + self.restart_overhead) / gap) >= ticks_left:
            return ClusterType.ON_DEMAND
        if math.ceil((work_left + 2 * self.restart_overhead) / gap) >= ticks_left:
            if self.env.cluster_type == ClusterType.SPOT and has_spot:
                return ClusterType.SPOT
            return ClusterType.ON_DEMAND
        return ClusterType.SPOT if has_spot else ClusterType.NONE

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
