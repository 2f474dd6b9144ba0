"""Trusted evaluator of the knapsack folder program.

The instances are drawn here from a fixed seed; every score is recomputed on this side
from the returned indexes (duplicates, ranges and capacity checked) and compared with
the optimum found by dynamic programming.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evolve.errors import UserError
from evolve.evaluation.build import folder_files
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult


@dataclass(frozen=True)
class Instance:
    values: list[float]
    weights: list[int]
    capacity: int
    optimum: float


def draw_instances(count: int, items: int, seed: int) -> list[Instance]:
    """Weights 5..60, values correlated with weight (value = weight + noise), capacity 40%."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(count):
        weights = rng.integers(5, 61, size=items)
        values = np.round(weights + rng.uniform(-4.0, 12.0, size=items), 2).clip(min=1.0)
        capacity = int(weights.sum() * 0.4)
        found.append(Instance([float(v) for v in values], [int(w) for w in weights], capacity,
                              optimum(values, weights, capacity)))
    return found


def optimum(values: np.ndarray, weights: np.ndarray, capacity: int) -> float:
    best = np.zeros(capacity + 1)
    for value, weight in zip(values, weights):
        w = int(weight)
        if w <= capacity:
            best[w:] = np.maximum(best[w:], best[:-w] + value)
    return float(best[capacity])


class KnapsackEvaluator:
    def __init__(self, problem_dir: Path, entry: str = "solver.py", instances: int = 12,
                 items: int = 80, seed: int = 7) -> None:
        if instances < 1 or items < 1:
            raise UserError("must be at least 1", "evaluator_args.instances / items")
        self.entry = entry
        self.instances = draw_instances(instances, items, seed)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        folder = Path(candidate_path)
        if not (folder / self.entry).is_file():
            return EvaluationResult.invalid(f"the program has no {self.entry}")
        calls = [CandidateCall("solve", args=(inst.values, inst.weights, inst.capacity))
                 for inst in self.instances]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=1024)
        result = context.sandbox.run(folder / self.entry, calls, limits,
                                     files=folder_files(folder, skip=(self.entry,)))
        if not result.ok:
            return EvaluationResult.invalid(result.reason, stderr=result.stderr[-2000:])
        scores: dict[str, float] = {}
        for index, (inst, call) in enumerate(zip(self.instances, result.calls)):
            if not call.ok:
                return EvaluationResult.invalid(f"solve() raised on instance {index}: "
                                                f"{call.error.splitlines()[0]}")
            problem = check(call.value, inst)
            if problem:
                return EvaluationResult.invalid(f"instance {index}: {problem}")
            scores[f"i{index}"] = sum(inst.values[i] for i in call.value) / inst.optimum
        score = sum(scores.values()) / len(scores)
        worst = min(scores, key=scores.__getitem__)
        return EvaluationResult(
            valid=True, score=score, metrics={"worst": scores[worst]}, instances=scores,
            artifacts={"feedback": f"worst instance {worst}: {scores[worst]:.4f} of optimal"})


def check(chosen: Any, inst: Instance) -> str:
    if not isinstance(chosen, list) or not all(type(i) is int for i in chosen):
        return "solve() must return a list of item indexes (ints)"
    if len(set(chosen)) != len(chosen):
        return "an item is chosen twice"
    if any(not 0 <= i < len(inst.values) for i in chosen):
        return "an index is out of range"
    weight = sum(inst.weights[i] for i in chosen)
    if weight > inst.capacity:
        return f"total weight {weight} exceeds the capacity {inst.capacity}"
    return ""
