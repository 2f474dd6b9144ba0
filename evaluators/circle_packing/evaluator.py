"""Trusted scoring of circle packings; the candidate only proposes centres and radii.

The candidate's own claimed sum is ignored: the sum is recomputed here from the radii,
after strict checks (finite numbers, positive radii, containment in the unit square and
pairwise non-overlap, each with zero tolerance beyond float rounding ``tol``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evolve.errors import UserError
from evolve.evaluation.plain import TensorValue
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult

# Best sum of radii published for 26 circles (AlphaEvolve, 2025), used to normalise.
BEST_KNOWN_26 = 2.6359


def _as_array(value: Any, name: str) -> np.ndarray:
    if isinstance(value, TensorValue):
        value = value.array
    if not isinstance(value, (np.ndarray, list, tuple)):
        raise ValueError(f"{name} must be an array, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not numeric") from None
    return array


def check_packing(
    centers: Any, radii: Any, n: int, tol: float = 1e-9
) -> tuple[float, dict[str, float]]:
    """Validate a packing and return (sum of radii, metrics); raise ValueError if invalid."""
    c = _as_array(centers, "centers")
    r = _as_array(radii, "radii")
    if c.shape != (n, 2):
        raise ValueError(f"centers must have shape ({n}, 2), got {tuple(c.shape)}")
    if r.shape != (n,):
        raise ValueError(f"radii must have shape ({n},), got {tuple(r.shape)}")
    if not (np.isfinite(c).all() and np.isfinite(r).all()):
        raise ValueError("centers or radii contain NaN or infinity")
    if (r <= 0).any():
        raise ValueError(
            f"circle {int(np.argmin(r))} has a non-positive radius {float(r.min()):.3g}"
        )
    low = c - r[:, None]
    high = c + r[:, None]
    outside = (low < -tol) | (high > 1 + tol)
    if outside.any():
        i = int(np.argwhere(outside.any(axis=1))[0, 0])
        raise ValueError(
            f"circle {i} (centre {c[i].round(4).tolist()}, r={r[i]:.4f}) leaves the unit square"
        )
    dist = np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    overlap = r[:, None] + r[None, :] - dist
    np.fill_diagonal(overlap, -np.inf)
    worst = np.unravel_index(int(np.argmax(overlap)), overlap.shape)
    if overlap[worst] > tol:
        i, j = int(worst[0]), int(worst[1])
        raise ValueError(f"circles {i} and {j} overlap by {float(overlap[worst]):.3g}")
    gaps = np.where(np.isfinite(overlap), -overlap, np.inf)
    metrics = {
        "sum_radii": float(r.sum()),
        "min_radius": float(r.min()),
        "max_radius": float(r.max()),
        "min_gap": float(gaps.min()),
    }
    return float(r.sum()), metrics


class CirclePackingEvaluator:
    """Calls ``function()`` of the candidate in the sandbox; it returns (centers, radii[, sum])."""

    def __init__(
        self,
        problem_dir: Path,
        n: int = 26,
        function: str = "run_packing",
        best_known: float = BEST_KNOWN_26,
        tolerance: float = 1e-9,
        memory_mb: int = 2048,
    ) -> None:
        if n < 1:
            raise UserError("must be at least 1", "evaluator_args.n")
        if best_known <= 0:
            raise UserError("must be positive", "evaluator_args.best_known")
        if memory_mb < 64:
            raise UserError("must be at least 64 (MB of address space)", "evaluator_args.memory_mb")
        self.problem_dir = Path(problem_dir)
        self.n = n
        self.function = function
        self.best_known = best_known
        self.tolerance = tolerance
        self.memory_mb = memory_mb

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        outcome = context.sandbox.run(candidate_path, [CandidateCall(self.function)], limits)
        if not outcome.ok:
            return EvaluationResult.invalid(outcome.reason, stderr=outcome.stderr[-2000:])
        call = outcome.calls[0]
        if not call.ok:
            return EvaluationResult.invalid(f"{self.function}() raised {call.error}")
        value = call.value
        if not isinstance(value, (tuple, list)) or len(value) not in (2, 3):
            return EvaluationResult.invalid(
                f"{self.function}() must return (centers, radii) or (centers, radii, sum), "
                f"got {type(value).__name__}"
            )
        try:
            total, metrics = check_packing(value[0], value[1], self.n, self.tolerance)
        except ValueError as exc:
            return EvaluationResult.invalid(f"invalid packing: {exc}")
        metrics["candidate_time_s"] = float(call.times_s[0]) if call.times_s else 0.0
        score = total / self.best_known
        metrics["target_ratio"] = score
        feedback = (
            f"sum of radii {total:.6f} ({score:.2%} of the best known {self.best_known}); "
            f"smallest radius {metrics['min_radius']:.4f}, tightest gap {metrics['min_gap']:.2e}"
        )
        return EvaluationResult(
            valid=True, score=score, metrics=metrics, artifacts={"feedback": feedback}
        )
