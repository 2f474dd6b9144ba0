"""Multi-region broadcast (Cloudcast) simulator: network, routing checks, cost models,
reference routings. Pure: imports nothing from ``evolve``."""

from __future__ import annotations

from simulators.cloud_transfer.model import (
    ADRS_NUM_VMS,
    ADRS_VM_PRICE_PER_HOUR,
    EdgeUse,
    TransferReport,
    simulate_adrs,
    simulate_rich,
    weighted_max_min_rates,
)
from simulators.cloud_transfer.network import (
    Network,
    Scenario,
    load_network,
    load_scenario,
    scenario_from_dict,
)
from simulators.cloud_transfer.references import (
    cheapest_paths,
    direct_paths,
    egress_lower_bound,
    steiner_paths,
    steiner_tree,
)
from simulators.cloud_transfer.routing import InvalidRouting, Routing, check_routing

__all__ = [
    "ADRS_NUM_VMS",
    "ADRS_VM_PRICE_PER_HOUR",
    "EdgeUse",
    "InvalidRouting",
    "Network",
    "Routing",
    "Scenario",
    "TransferReport",
    "cheapest_paths",
    "check_routing",
    "direct_paths",
    "egress_lower_bound",
    "load_network",
    "load_scenario",
    "scenario_from_dict",
    "simulate_adrs",
    "simulate_rich",
    "steiner_paths",
    "steiner_tree",
    "weighted_max_min_rates",
]
