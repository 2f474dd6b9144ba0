"""The published multi-region base class: region switches add no overhead by default."""

from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType


class MultiRegionStrategy(Strategy):
    NAME = "multi_region_strategy"

    def __init__(self, args) -> None:
        super().__init__(args)
        self.last_startup_region = None
        self.migration_overhead_seconds = getattr(args, "region_switch_overhead_hours", 0.0) * 3600

    @classmethod
    def _from_args(cls, parser):
        group = parser.add_argument_group(cls.NAME)
        group.add_argument("--region-switch-overhead-hours", type=float, default=0.0)
        group.add_argument("--inter-task-overhead", type=float, default=[0.0], nargs="+")
        args, _ = parser.parse_known_args()
        return cls(args)

    def _before_decision_hook(self, last_cluster_type, request_type) -> None:
        if last_cluster_type != ClusterType.NONE or request_type == ClusterType.NONE:
            return
        current = self.env.get_current_region()
        if self.last_startup_region is None:
            self.last_startup_region = current
            return
        if current != self.last_startup_region:
            self.last_startup_region = current
