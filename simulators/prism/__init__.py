"""GPU model placement (PRISM, ADRS ``prism``): cases, placement checks, KV-cache
pressure and its lower bound. Pure: imports nothing from ``evolve``."""

from __future__ import annotations

from simulators.prism.cases import GPU_MEM_GB, Case, generate_cases, load_cases
from simulators.prism.placement import (
    ADRS_FULL_GPU_KVPR,
    InvalidPlacement,
    adrs_max_kvpr,
    check_placement,
    gpu_kvpr,
    lower_bound,
    max_kvpr,
)

__all__ = [
    "ADRS_FULL_GPU_KVPR",
    "GPU_MEM_GB",
    "Case",
    "InvalidPlacement",
    "adrs_max_kvpr",
    "check_placement",
    "generate_cases",
    "gpu_kvpr",
    "load_cases",
    "lower_bound",
    "max_kvpr",
]
