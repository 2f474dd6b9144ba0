"""Network telemetry repair (ADRS ``telemetry_repair``): Abilene link counters, the ADRS
test faults with a private generator, repair checks and scores. Pure: imports nothing
from ``evolve``."""

from __future__ import annotations

from simulators.telemetry_repair.data import Network, Telemetry, load_telemetry
from simulators.telemetry_repair.perturb import (
    FAULTS,
    Instance,
    adrs_instances,
    drawn_instances,
    perturb,
)
from simulators.telemetry_repair.repair import (
    FIELDS,
    InvalidRepair,
    Repair,
    check_repair,
    combined,
    row_terms,
)

__all__ = [
    "FAULTS",
    "FIELDS",
    "Instance",
    "InvalidRepair",
    "Network",
    "Repair",
    "Telemetry",
    "adrs_instances",
    "check_repair",
    "combined",
    "drawn_instances",
    "load_telemetry",
    "perturb",
    "row_terms",
]
