"""Placement checks and KV-cache pressure (KVPR).

For GPU ``g`` holding models ``M_g``:

    KVPR_g = sum(req_rate / slo over M_g) / (80 - sum(size over M_g))

A GPU whose models fill its 80 GB exactly has no KV-cache memory: its KVPR is
infinite (ADRS scores it 1e6). The objective is ``max_g KVPR_g``. Since the maximum of
ratios is at least the ratio of the sums, no placement of every model does better than

    lower_bound = sum(req_rate / slo) / (80 * gpu_num - sum(size))
"""

from __future__ import annotations

import math
from typing import Any

from simulators.prism.cases import GPU_MEM_GB, Case

ADRS_FULL_GPU_KVPR = 1_000_000.0


class InvalidPlacement(ValueError):
    """A placement that does not put every model on exactly one real GPU, within memory."""


def check_placement(value: Any, case: Case) -> list[list[int]]:
    """``{gpu_id: [model name, ...]}`` -> model indices per GPU (0..gpu_num-1, in the
    order returned); raises InvalidPlacement naming the first problem."""
    if not isinstance(value, dict):
        raise InvalidPlacement(f"expected a dict gpu_id -> models, got {type(value).__name__}")
    index = {name: i for i, name in enumerate(case.names)}
    per_gpu: list[list[int]] = [[] for _ in range(case.gpu_num)]
    placed = [0] * len(case.names)
    for gpu, names in value.items():
        if isinstance(gpu, bool) or not isinstance(gpu, int) or not 0 <= gpu < case.gpu_num:
            raise InvalidPlacement(
                f"GPU id {gpu!r} is not one of 0..{case.gpu_num - 1} (gpu_num = {case.gpu_num})"
            )
        if not isinstance(names, list):
            raise InvalidPlacement(f"GPU {gpu}: expected a list of models")
        for name in names:
            if not isinstance(name, str) or name not in index:
                shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
                raise InvalidPlacement(f"GPU {gpu}: {shown} is not one of the case's models")
            per_gpu[gpu].append(index[name])
            placed[index[name]] += 1
    for i, count in enumerate(placed):
        if count != 1:
            raise InvalidPlacement(
                f"{case.names[i]} is placed {count} times; every model goes on exactly one GPU"
            )
    for gpu, models in enumerate(per_gpu):
        used = sum(case.sizes[i] for i in models)
        if used > GPU_MEM_GB:
            raise InvalidPlacement(
                f"GPU {gpu} holds {used} GB of model weights, over its {GPU_MEM_GB} GB"
            )
    return per_gpu


def gpu_kvpr(case: Case, models: list[int]) -> float:
    """KVPR of one GPU, summed in the given model order (as ADRS sums it)."""
    weight = sum(case.rates[i] / case.slos[i] for i in models)
    free = GPU_MEM_GB - sum(case.sizes[i] for i in models)
    return weight / free if free > 0 else math.inf


def max_kvpr(case: Case, per_gpu: list[list[int]]) -> float:
    return max(gpu_kvpr(case, models) for models in per_gpu)


def adrs_max_kvpr(case: Case, per_gpu: list[list[int]]) -> float:
    """As the ADRS evaluator computes it for a checked placement: a full GPU counts 1e6."""
    value = max_kvpr(case, per_gpu)
    return ADRS_FULL_GPU_KVPR if math.isinf(value) else value


def lower_bound(case: Case) -> float:
    weight = sum(r / s for r, s in zip(case.rates, case.slos))
    return weight / (GPU_MEM_GB * case.gpu_num - sum(case.sizes))
