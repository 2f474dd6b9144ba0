"""Cluster types and list prices, as the published ``sky_spot.utils`` names them."""

import enum


class ClusterType(enum.Enum):
    NONE = enum.auto()
    SPOT = enum.auto()
    ON_DEMAND = enum.auto()


COSTS = {ClusterType.ON_DEMAND: 3.06, ClusterType.SPOT: 0.9731, ClusterType.NONE: 0}
COST_K = COSTS[ClusterType.ON_DEMAND] / COSTS[ClusterType.SPOT]
DEVICE_COSTS = {"v100_1": 3.06, "v100_8": 3.06, "k80_1": 3.06, "k80_8": 3.06}
