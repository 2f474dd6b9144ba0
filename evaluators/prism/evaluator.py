"""GPU model placement (PRISM, ADRS) evaluator.

The candidate's ``compute_model_placement(gpu_num, models)`` runs only in the sandbox,
once per case, all cases of a set in one child. Only the model names it puts on each
GPU id come back; every model must be placed exactly once, on a GPU id in
``range(gpu_num)``, within each GPU's 80 GB, and the KV-cache pressure is computed here
from the trusted copy of the case.

    score      = mean over cases of lower_bound / max_kvpr                 (in [0, 1])
    adrs_score = 1 / mean(max_kvpr) + success_rate                         (the ADRS formula)

(a GPU filled to exactly 80 GB has no KV memory: its pressure is infinite here, 1e6 in
the ADRS figure). Holdout sets are drawn from other seeds, in their own children.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.harnessed import CandidateFault, run_harnessed
from evolve.errors import UserError
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.trusted_seed import SECRET, seed_from
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.prism import (
    Case,
    InvalidPlacement,
    adrs_max_kvpr,
    check_placement,
    generate_cases,
    load_cases,
    lower_bound,
    max_kvpr,
)

HARNESS = Path(__file__).with_name("harness.py")
DEFAULT_HOLDOUT: list[dict[str, int | str]] = [
    {"seed": SECRET, "cases": 50, "models_per_gpu": 2},
    {"seed": SECRET, "cases": 50, "models_per_gpu": 3, "min_size": 8, "max_size": 24},
]
HOLDOUT_KEYS = {"seed", "cases", "models_per_gpu", "min_size", "max_size"}


@dataclass
class Outcome:
    kvpr: list[float]  # max KVPR per case (inf for a full GPU)
    adrs_kvpr: list[float]  # the same, as ADRS counts it
    bounds: list[float]
    seconds: float

    @property
    def ratios(self) -> list[float]:
        return [b / k for b, k in zip(self.bounds, self.kvpr)]  # b / inf = 0

    def totals(self) -> dict[str, float]:
        mean = float(np.mean(self.adrs_kvpr))
        return {
            "score": float(np.mean(self.ratios)),
            "adrs_score": (1.0 / mean if mean != 0 else 0.0) + 1.0,
            "mean_max_kvpr": mean,
        }


def _holdout_sets(value: Any) -> list[tuple[str, list[Case]]]:
    key = "evaluator_args.holdout"
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UserError("expected a list of {seed, cases, models_per_gpu[, min_size, max_size]}",
                        key)
    sets = []
    for index, item in enumerate(value):
        unknown = set(item) - HOLDOUT_KEYS
        numbers = all(isinstance(v, int) and not isinstance(v, bool)
                      for k, v in item.items() if k != "seed")
        if unknown or "seed" not in item or not numbers:
            raise UserError(
                f"{item!r}: integer keys {', '.join(sorted(HOLDOUT_KEYS))} (seed required: "
                f"a number or '{SECRET}')", key
            )
        seed = seed_from(item["seed"], f"prism/holdout/{index}", key)
        low, high = item.get("min_size", 10), item.get("max_size", 29)
        per_gpu, count = item.get("models_per_gpu", 2), item.get("cases", 50)
        if not (1 <= low <= high and per_gpu >= 1 and count >= 1):
            raise UserError(
                f"{item!r}: needs 1 <= min_size <= max_size, models_per_gpu, cases >= 1", key)
        cases = generate_cases(seed, count, per_gpu, size=(low, high + 1))
        label = f"secret{index + 1}" if item["seed"] == SECRET else f"seed{item['seed']}"
        sets.append((f"{label}_{per_gpu}per_gpu", cases))
    return sets


class PrismEvaluator:
    """Scores ``compute_model_placement(gpu_num, models) -> {gpu_id: [Model, ...]}``."""

    def __init__(
        self,
        problem_dir: Path,
        cases: str = "data/test_cases_seed42.json",
        holdout: list[dict[str, int | str]] | None = None,
        memory_mb: int = 2048,
    ) -> None:
        path = Path(cases) if Path(cases).is_absolute() else Path(problem_dir) / cases
        if not path.is_file():
            raise UserError(f"case file not found: {path}", "evaluator_args.cases")
        try:
            self.train = load_cases(path)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: {exc}", "evaluator_args.cases") from None
        if not self.train:
            raise UserError(f"{path}: no cases", "evaluator_args.cases")
        self.holdout = _holdout_sets(DEFAULT_HOLDOUT if holdout is None else holdout)
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 64:
            raise UserError(f"expected an integer >= 64, got {memory_mb!r}",
                            "evaluator_args.memory_mb")
        self.memory_mb = memory_mb

    def _run(
        self, cases: list[Case], context: EvaluationContext, what: str, candidate: Path
    ) -> Outcome:
        calls = [CandidateCall("place", (c.gpu_num, c.rows(), int(context.seed))) for c in cases]
        limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=self.memory_mb)
        result = run_harnessed(context, HARNESS, candidate, calls, limits, what=what)
        outcome = Outcome([], [], [], 0.0)
        for i, (case, call) in enumerate(zip(cases, result.calls)):
            try:
                per_gpu = check_placement(call.value, case)
            except InvalidPlacement as exc:
                raise CandidateFault(f"{what}, case {i}: {exc}") from None
            outcome.kvpr.append(max_kvpr(case, per_gpu))
            outcome.adrs_kvpr.append(adrs_max_kvpr(case, per_gpu))
            outcome.bounds.append(lower_bound(case))
            outcome.seconds += sum(call.times_s)
        return outcome

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            outcome = self._run(self.train, context, "train cases", candidate_path)
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        totals = outcome.totals()
        metrics = {k: v for k, v in totals.items() if k != "score"}
        metrics["mean_lower_bound"] = float(np.mean(outcome.bounds))
        metrics["full_gpu_cases"] = float(sum(np.isinf(outcome.kvpr)))
        metrics["candidate_time_s"] = outcome.seconds
        return EvaluationResult(
            valid=True,
            score=totals["score"],
            metrics=metrics,
            instances={f"gpus{g}": self._mean_ratio(outcome, g) for g in self._gpu_counts()},
            holdout=self._holdout(candidate_path, context),
            artifacts={"worst_cases": self._worst(outcome)},
        )

    def _gpu_counts(self) -> list[int]:
        return sorted({c.gpu_num for c in self.train})

    def _mean_ratio(self, outcome: Outcome, gpus: int) -> float:
        ratios = [r for c, r in zip(self.train, outcome.ratios) if c.gpu_num == gpus]
        return float(np.mean(ratios))

    def _worst(self, outcome: Outcome, top: int = 5) -> str:
        order = sorted(range(len(self.train)), key=lambda i: outcome.ratios[i])[:top]
        lines = ["case | GPUs | models | max KVPR | lower bound | bound / max KVPR"]
        for i in order:
            case = self.train[i]
            lines.append(
                f"{i} | {case.gpu_num} | {len(case.names)} | {outcome.kvpr[i]:.4f} | "
                f"{outcome.bounds[i]:.4f} | {outcome.ratios[i]:.3f}"
            )
        return "\n".join(lines)

    def _holdout(self, candidate_path: Path, context: EvaluationContext) -> dict[str, float]:
        """Each set in its own child, after the train cases; never shown to the LLM."""
        if not self.holdout:
            return {}
        holdout: dict[str, float] = {"valid": 1.0}
        scores = []
        for name, cases in self.holdout:
            try:
                totals = self._run(cases, context, f"holdout {name}", candidate_path).totals()
            except CandidateFault:
                return {"valid": 0.0, "score": 0.0}
            scores.append(totals["score"])
            holdout[f"score_{name}"] = totals["score"]
            holdout[f"adrs_score_{name}"] = totals["adrs_score"]
        holdout["score"] = float(np.mean(scores))
        return holdout
