"""PRISM placement cases: GPUs of 80 GB and the models to place on them.

The ADRS evaluator draws its 50 cases with numpy's legacy generator seeded with 42
(``generate_test_gpu_models``): per case ``gpu_num = randint(5, 10)``, then for each of
``2 * gpu_num`` models ``size = randint(10, 30)``, ``req_rate = randint(1, 10)``,
``slo = randint(5, 10)``, in that order. ``generate_cases`` draws the same way, with
the number of models per GPU and the size range as parameters, for holdout sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GPU_MEM_GB = 80


@dataclass(frozen=True)
class Case:
    gpu_num: int
    names: tuple[str, ...]
    sizes: tuple[int, ...]  # GB
    rates: tuple[int, ...]  # requests/s
    slos: tuple[int, ...]

    def rows(self) -> list[dict[str, object]]:
        """The models as the candidate's ``Model`` fields (``cur_gpu_id`` = index, as in ADRS)."""
        return [
            {"model_name": n, "model_size": s, "req_rate": r, "slo": o, "cur_gpu_id": i}
            for i, (n, s, r, o) in enumerate(zip(self.names, self.sizes, self.rates, self.slos))
        ]


def load_cases(path: Path) -> list[Case]:
    """Cases from a JSON list of
    ``{gpu_num, models: [{model_name, model_size, req_rate, slo}]}``."""
    cases = []
    for i, item in enumerate(json.loads(Path(path).read_text())):
        models = item["models"]
        case = Case(
            int(item["gpu_num"]),
            tuple(str(m["model_name"]) for m in models),
            tuple(int(m["model_size"]) for m in models),
            tuple(int(m["req_rate"]) for m in models),
            tuple(int(m["slo"]) for m in models),
        )
        if case.gpu_num < 1 or len(set(case.names)) != len(case.names):
            raise ValueError(f"case {i}: needs gpu_num >= 1 and distinct model names")
        if min(case.slos, default=1) <= 0 or min(case.sizes, default=0) < 0:
            raise ValueError(f"case {i}: slo must be positive and sizes non-negative")
        cases.append(case)
    return cases


def generate_cases(
    seed: int,
    count: int = 50,
    models_per_gpu: int = 2,
    gpus: tuple[int, int] = (5, 10),
    size: tuple[int, int] = (10, 30),
    rate: tuple[int, int] = (1, 10),
    slo: tuple[int, int] = (5, 10),
) -> list[Case]:
    """``count`` cases drawn as ADRS draws them (ranges are half-open, like ``randint``)."""
    rng = np.random.RandomState(seed)
    cases = []
    for _ in range(count):
        gpu_num = int(rng.randint(*gpus))
        draws = [
            (int(rng.randint(*size)), int(rng.randint(*rate)), int(rng.randint(*slo)))
            for _ in range(gpu_num * models_per_gpu)
        ]
        cases.append(
            Case(
                gpu_num,
                tuple(f"model_{j}" for j in range(len(draws))),
                tuple(d[0] for d in draws),
                tuple(d[1] for d in draws),
                tuple(d[2] for d in draws),
            )
        )
    return cases
