"""The strategy owns task_done_time: claims the job done at once, then idles."""

from sky_spot.strategies.multi_strategy import MultiRegionStrategy
from sky_spot.utils import ClusterType


class FakeProgress(MultiRegionStrategy):
    NAME = "fake_progress"

    def _step(self, last_cluster_type, has_spot):
        if sum(self.task_done_time) < self.task_duration:
            self.task_done_time.append(self.task_duration)
        return ClusterType.NONE
