"""Spot-instance scheduling under a deadline ("Can't Be Late", NSDI'24; ADRS): the rules
of the published ``sky_spot`` simulator, one run at a time (``model``, shipped into the
sandbox) and vectorised (``replay``), traces and their alignment in time (``traces``)
and the published strategies as vectorised policies (``policies``). Pure: imports
nothing from ``evolve``."""

from __future__ import annotations

from simulators.cant_be_late.model import (
    MISSING,
    NONE,
    ON_DEMAND,
    ON_DEMAND_PRICE,
    REGION_STRIDE,
    SPOT,
    SPOT_PRICE,
    Job,
    Run,
)
from simulators.cant_be_late.replay import Fleet, Observation, Outcome, replay, simulate
from simulators.cant_be_late.traces import (
    JobSpec,
    RunSpec,
    Schedule,
    Timeline,
    load_json,
    load_windows,
    unavailable_bits,
)

__all__ = [
    "MISSING", "NONE", "ON_DEMAND", "ON_DEMAND_PRICE", "REGION_STRIDE", "SPOT", "SPOT_PRICE",
    "Fleet", "Job", "JobSpec", "Observation", "Outcome", "Run", "RunSpec", "Schedule",
    "Timeline", "load_json", "load_windows", "replay", "simulate", "unavailable_bits",
]
