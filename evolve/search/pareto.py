"""Per-instance Pareto fronts of one island (GEPA-style parent selection).

Evaluators report a score per workload in ``EvaluationResult.instances``. For each
instance the island keeps the set of programs that reach the best value seen on it
(ties included). The candidates are the union of those sets; a candidate dominated by
another candidate (at least as good on every instance, better on one) is pruned, and
each survivor is sampled in proportion to how many per-instance fronts it sits on.
A program that wins a single workload thus stays a possible parent even when its
combined score is mediocre, which keeps specialists alive.

Cost: adding a program is O(its number of instances); the candidate set is bounded by
instances x ties, and pruning runs only over it and only after it changed. Programs
without per-instance scores take part with their combined score as the one instance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping

COMBINED = "__score__"  # the instance name used for programs that report none
REL_TOL = 1e-12


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL)


def instance_scores(instances: Mapping[str, object], score: float | None) -> dict[str, float]:
    """The finite per-instance values of a program (higher is better), or its score."""
    values: dict[str, float] = {}
    for name, value in instances.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            values[str(name)] = float(value)
    if not values and score is not None and math.isfinite(score):
        values[COMBINED] = float(score)
    return values


class ParetoFronts:
    """The per-instance fronts of one island, maintained incrementally."""

    def __init__(self) -> None:
        self.best: dict[str, float] = {}
        self.front: dict[str, set[str]] = {}  # instance -> ids reaching its best value
        self.values: dict[str, dict[str, float]] = {}  # only for ids currently on some front
        self._weights: dict[str, int] | None = None  # cached sampling weights

    def add(self, program_id: str, values: Mapping[str, float]) -> bool:
        """Offer a program's per-instance values; True if it joined at least one front."""
        joined = False
        for name, value in values.items():
            best = self.best.get(name)
            if best is None or (value > best and not _same(value, best)):
                for dropped in self.front.get(name, set()):
                    self._forget_if_unused(dropped, name)
                self.best[name] = value
                self.front[name] = {program_id}
                joined = True
            elif _same(value, best):
                self.front[name].add(program_id)
                joined = True
        if joined:
            self.values[program_id] = dict(values)
            self._weights = None
        return joined

    def _forget_if_unused(self, program_id: str, leaving: str) -> None:
        if not any(program_id in ids for name, ids in self.front.items() if name != leaving):
            self.values.pop(program_id, None)

    def weights(self) -> dict[str, int]:
        """Non-dominated candidates -> number of instance fronts each sits on."""
        if self._weights is None:
            candidates = sorted(self.values)
            alive = [c for c in candidates if not any(
                other != c and self._dominates(other, c) for other in candidates)]
            self._weights = {
                c: sum(1 for ids in self.front.values() if c in ids) for c in alive
            }
        return self._weights

    def _dominates(self, a: str, b: str) -> bool:
        va, vb = self.values[a], self.values[b]
        names = set(va) | set(vb)
        better = False
        for name in names:
            x, y = va.get(name, -math.inf), vb.get(name, -math.inf)
            if x < y and not _same(x, y):
                return False
            if x > y and not _same(x, y):
                better = True
        return better

    def sample(self, rng: random.Random) -> str | None:
        """A candidate id drawn in proportion to its front count, or None when empty."""
        weights = self.weights()
        if not weights:
            return None
        ids = list(weights)
        return rng.choices(ids, weights=[weights[i] for i in ids], k=1)[0]

    def __len__(self) -> int:
        return len(self.values)
