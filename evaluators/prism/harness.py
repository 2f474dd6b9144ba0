"""Trusted wrapper run as the sandbox program (candidate: ``candidate_program.py`` beside
it, with ``harness_support.py``).

Builds the ADRS ``Model`` objects from plain rows, calls the candidate's
``compute_model_placement(gpu_num=..., models=...)`` and passes back only which model
*names* it put on which GPU id. The evaluator looks every name up in its own copy of
the case, so sizes, rates and SLOs on the returned objects (changed or invented) count
for nothing.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from harness_support import function, load_candidate, seed_generators


@dataclass
class Model:
    model_name: str
    model_size: int
    req_rate: int
    slo: int
    cur_gpu_id: int


def _gpu_id(key: Any) -> Any:
    if isinstance(key, bool):
        return repr(key)
    try:
        return int(operator.index(key))
    except TypeError:
        return repr(key)[:60]  # reported as an invalid GPU id on the trusted side


def _name(model: Any) -> Any:
    name = getattr(model, "model_name", None)
    return str.__str__(name) if isinstance(name, str) else f"<{type(model).__name__} object>"


def place(gpu_num: int, rows: list[dict[str, Any]], seed: int) -> dict[Any, list[Any]]:
    seed_generators(seed)
    compute = function(load_candidate(__file__), "compute_model_placement")
    result = compute(gpu_num=gpu_num, models=[Model(**row) for row in rows])
    if not isinstance(result, dict):
        raise TypeError(
            "compute_model_placement must return a dict gpu_id -> list of models, "
            f"got {type(result).__name__}"
        )
    placement: dict[Any, list[Any]] = {}
    for key, models in dict.items(result):
        gpu = _gpu_id(key)
        if not isinstance(models, (list, tuple)):
            raise TypeError(
                f"placement[{gpu!r}] must be a list of models, got {type(models).__name__}"
            )
        placement.setdefault(gpu, []).extend(_name(m) for m in models)
    return placement
