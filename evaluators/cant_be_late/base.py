"""What the single- and multi-region spot evaluators share: argument checks, scoring a
schedule in the sandbox, the train result and the holdout figures.

A subclass loads ``train`` and ``holdout`` (None: no holdout) and says how a set of run
costs becomes one score (``combined``) and which ADRS figures it reports.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from evaluators.cant_be_late.report import Scored, score_runs, summary_table
from evaluators.cant_be_late.session import run_schedule
from evaluators.harnessed import CandidateFault
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.cant_be_late import JobSpec, Schedule


def job_specs(value: Any, key: str) -> list[JobSpec]:
    where = f"evaluator_args.{key}"
    if not isinstance(value, list) or not value:
        raise UserError("expected a list of [duration_h, deadline_h, overhead_h]", where)
    jobs = []
    for item in value:
        numbers = isinstance(item, list) and len(item) == 3 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in item)
        if not numbers or not (0 < item[0] and item[0] + item[2] <= item[1]):
            raise UserError(
                f"{item!r}: expected [duration_h, deadline_h, overhead_h] with "
                "0 < duration_h and duration_h + overhead_h <= deadline_h", where)
        jobs.append(JobSpec(float(item[0]), float(item[1]), float(item[2])))
    return jobs


def resolve(problem_dir: Path, value: str, key: str) -> Path:
    path = Path(value) if Path(value).is_absolute() else Path(problem_dir) / value
    if not path.is_file():
        raise UserError(f"file not found: {path}", f"evaluator_args.{key}")
    return path


class SpotEvaluator(ABC):
    """Scores a strategy on the ``train`` schedule; the ``holdout`` one apart."""

    train: Schedule
    holdout: Schedule | None

    def __init__(self, problem_dir: Path, traces: str, late_penalty: float | None,
                 memory_mb: int) -> None:
        self.traces = resolve(problem_dir, traces, "traces")
        if late_penalty is not None and (
            isinstance(late_penalty, bool) or not isinstance(late_penalty, (int, float))
            or late_penalty < 0
        ):
            raise UserError(f"must be a non-negative number, got {late_penalty!r}",
                            "evaluator_args.late_penalty")
        self.late_penalty = late_penalty
        self.memory_mb = int(memory_mb)

    @abstractmethod
    def combined(self, scored: Scored, costs: np.ndarray) -> float:
        """One score from per-run costs; higher is better."""

    @abstractmethod
    def adrs_metrics(self, scored: Scored) -> dict[str, float]:
        """The figures the published ADRS evaluator reports, for comparison."""

    def _score(self, schedule: Schedule, candidate: Path, context: EvaluationContext,
               what: str) -> Scored:
        outcome, seconds = run_schedule(schedule, candidate, context, self.memory_mb, what)
        return score_runs(schedule, outcome, self.late_penalty, seconds)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            scored = self._score(self.train, candidate_path, context, "train runs")
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        metrics = {**scored.metrics(), **self.adrs_metrics(scored)}
        for group, value in scored.group_means(scored.cost).items():
            metrics[f"avg_cost_{group}"] = value
        instances = {g: -v for g, v in scored.group_means(scored.penalised).items()}
        return EvaluationResult(
            valid=True, score=self.combined(scored, scored.penalised), metrics=metrics,
            instances=instances, holdout=self._holdout(candidate_path, context),
            artifacts={"scenarios": summary_table(scored), "late_runs": scored.late_text()},
        )

    def _holdout(self, candidate: Path, context: EvaluationContext) -> dict[str, float]:
        """In its own child, after the train runs; never shown to the LLM."""
        if self.holdout is None:
            return {}
        try:
            scored = self._score(self.holdout, candidate, context, "holdout runs")
        except CandidateFault:
            return {"valid": 0.0, "score": 0.0}
        holdout = {"valid": 1.0, "score": self.combined(scored, scored.penalised),
                   **scored.metrics()}
        for group, value in scored.group_means(scored.cost).items():
            holdout[f"avg_cost_{group}"] = value
        return holdout
