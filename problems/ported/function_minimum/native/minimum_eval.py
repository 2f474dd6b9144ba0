"""Native evaluator of the function-minimum problem: a trusted port of ../openevolve.

The candidate's search(seed) runs in the sandbox and returns a point as plain data; f
and the score are computed here, so nothing the candidate does in its own process (for
instance replacing f or math.cos there) changes its score.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult

MINIMUM = -1.0


def f(x: float, y: float) -> float:
    return 0.1 * ((x - 1) ** 2 + (y + 2) ** 2) - math.cos(2 * (x - 1)) * math.cos(2 * (y + 2))


def point(value: Any) -> tuple[float, float] | None:
    """Two finite numbers inside the square, or None."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    if not all(type(v) in (int, float) and math.isfinite(v) for v in value):
        return None
    x, y = float(value[0]), float(value[1])
    return (x, y) if -5 <= x <= 5 and -5 <= y <= 5 else None


class MinimumEvaluator:
    def __init__(self, problem_dir: Path, seeds: int = 5, memory_mb: int = 1024) -> None:
        if seeds < 1:
            raise UserError("must be at least 1", "evaluator_args.seeds")
        self.seeds = seeds
        self.memory_mb = memory_mb

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        calls = [CandidateCall("search", args=(seed,)) for seed in range(self.seeds)]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        outcome = context.sandbox.run(candidate_path, calls, limits)
        if not outcome.ok:
            return EvaluationResult.invalid(outcome.reason, stderr=outcome.stderr[-2000:])
        gaps: dict[str, float] = {}
        for seed, call in enumerate(outcome.calls):
            if not call.ok:
                return EvaluationResult.invalid(f"search({seed}) raised {call.error.splitlines()[0]}")
            found = point(call.value)
            if found is None:
                return EvaluationResult.invalid(
                    f"search({seed}) returned {str(call.value)[:80]}, not a point (x, y) "
                    "in [-5, 5] x [-5, 5]")
            gaps[f"seed{seed}"] = f(*found) - MINIMUM
        mean_gap = sum(gaps.values()) / len(gaps)
        return EvaluationResult(
            valid=True, score=1.0 / (1.0 + mean_gap),
            metrics={"mean_gap": mean_gap, "worst_gap": max(gaps.values())},
            instances={seed: 1.0 / (1.0 + gap) for seed, gap in gaps.items()},
            artifacts={"feedback": f"worst seed: {max(gaps, key=lambda s: gaps[s])}"})
