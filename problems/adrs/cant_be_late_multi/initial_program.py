"""Multi-region starter (the ADRS cant-be-late-multi seed), restated.

Compares progress with the straight line from nothing at the start to the whole job
at the deadline. Behind the line it runs here: spot if available, otherwise
on-demand. Ahead of it, it takes spot here if available, otherwise moves to the next
region and waits a tick.
"""

import typing

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


# EVOLVE-BLOCK-START
class RoundRobinStrategy(MultiRegionStrategy):
    NAME = "round_robin_regions"

    def __init__(self, args) -> None:
        super().__init__(args)
        self.ready = False
        self.last_seen: typing.Dict[int, typing.Tuple[bool, float]] = {}

    def reset(self, env, task) -> None:
        super().reset(env, task)
        self.last_seen = {}
        self.ready = True

    def _behind_schedule(self) -> bool:
        elapsed = self.env.elapsed_seconds
        if self.deadline <= elapsed:
            return True
        if elapsed == 0:
            return False
        work_left = self.task_duration - sum(self.task_done_time)
        done = self.task_duration - work_left
        return done < elapsed * (self.task_duration / self.deadline)

    def _step(self, last_cluster_type: ClusterType, has_spot: bool) -> ClusterType:
        if not self.ready or self.task_done:
            return ClusterType.NONE
        region = self.env.get_current_region()
        self.last_seen[region] = (has_spot, self.env.elapsed_seconds)

        if self._behind_schedule():
            return ClusterType.SPOT if has_spot else ClusterType.ON_DEMAND
        if has_spot:
            return ClusterType.SPOT
        self.env.switch_region((region + 1) % self.env.get_num_regions())
        return ClusterType.NONE
# EVOLVE-BLOCK-END
