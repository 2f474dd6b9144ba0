"""What a strategy sees of its environment: the present tick only.

The driver refreshes these fields every tick. There is no trace, start index or
next-availability helper (the published ``TraceEnv`` exposed the whole future trace);
changing a field here changes what this strategy believes, not what the run costs.
"""

from sky_spot.utils import ClusterType

ON_DEMAND_PRICE = 3.06


class Env:
    NAME = "trace"

    def __init__(self, gap_seconds: int, regions: int) -> None:
        self.gap_seconds = gap_seconds
        self.num_regions = regions
        self.tick = 0
        self.observed_tick = -1
        self.cluster_type = ClusterType.NONE
        self.current_region = 0
        self._available: tuple = (False,) * regions
        self._spot_prices: tuple = (0.0,) * regions
        self._first_spot_prices: tuple = (0.0,) * regions

    @property
    def elapsed_seconds(self) -> float:
        return self.tick * self.gap_seconds

    def spot_available(self) -> bool:
        return self.spot_available_in_region(self.current_region)

    def get_num_regions(self) -> int:
        return self.num_regions

    def get_current_region(self) -> int:
        return self.current_region

    def switch_region(self, region_idx: int) -> bool:
        assert 0 <= region_idx < self.num_regions, f"Region index {region_idx} out of range"
        self.current_region = region_idx
        return True

    def spot_available_in_region(self, region_idx: int) -> bool:
        assert 0 <= region_idx < self.num_regions, f"Region index {region_idx} out of range"
        return self._available[region_idx]

    def get_all_regions_spot_available(self) -> list:
        return list(self._available)

    def get_all_regions_spot_prices(self) -> list:
        return [p if a else None for a, p in zip(self._available, self._spot_prices)]

    def get_all_regions_ondemand_prices(self) -> list:
        return [ON_DEMAND_PRICE] * self.num_regions

    def get_price(self) -> dict:
        return {ClusterType.ON_DEMAND: ON_DEMAND_PRICE,
                ClusterType.SPOT: self._spot_prices[self.current_region],
                ClusterType.NONE: 0.0}

    def get_constant_cost_map(self) -> dict:
        return {ClusterType.ON_DEMAND: ON_DEMAND_PRICE,
                ClusterType.SPOT: self._first_spot_prices[self.current_region],
                ClusterType.NONE: 0.0}


TraceEnv = Env
MultiTraceEnv = Env
