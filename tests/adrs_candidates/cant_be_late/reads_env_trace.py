"""Hole 5 (as published): env.trace and env._start_index hold the whole availability
trace. Waits for spot only if it comes back within the slack: clairvoyant."""

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


class Clairvoyant(Strategy):
    NAME = "clairvoyant_env_trace"

    def _step(self, last_cluster_type, has_spot):
        env = self.env
        trace, start = env.trace, env._start_index
        now = env.tick + start
        wait, _ = env.next_wait_spot_length()
        slack = self.deadline - env.elapsed_seconds - (self.task_duration - sum(self.task_done_time))
        if has_spot:
            return ClusterType.SPOT
        if wait * env.gap_seconds < slack - 2 * self.restart_overhead and not trace[now]:
            return ClusterType.NONE
        return ClusterType.ON_DEMAND

    @classmethod
    def _from_args(cls, parser):
        args, _ = parser.parse_known_args()
        return cls(args)
