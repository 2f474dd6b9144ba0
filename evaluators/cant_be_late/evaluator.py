"""Spot scheduling, one region ("Can't Be Late", ADRS): the evaluator.

The candidate's strategy class (``_step(last_cluster_type, has_spot)``, the published
interface) runs only in the sandbox, driven one step at a time (``session.py``); every
cost and finish time is replayed here from its proposals. Train: the ADRS set, 4
envs x 30 windows x 3 deadlines x 3 restart overheads = 1,080 runs. Holdout: windows of
four other instance pools with other deadlines and overheads, in its own child.

    cost_i      = what run i costs (price x time of each tick, as ``sky_spot`` bills)
    penalised_i = cost_i + late_penalty if run i finished after its deadline
    score       = -(mean(penalised) + 0.25 * std(penalised))
    adrs_score  = -(mean(cost) + 0.25 * std(cost))    (the ADRS combined_score)

With every deadline met the two scores are equal. ``late_penalty`` defaults to the
job's on-demand price (duration x 3.06 $/h): a late job is charged as if it had to
be run again on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evaluators.cant_be_late.report import Scored, score_runs, summary_table
from evaluators.cant_be_late.session import run_schedule
from evaluators.harnessed import CandidateFault
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.cant_be_late import JobSpec, Schedule, load_windows

ADRS_JOBS = [[48, deadline, overhead] for deadline in (52, 70, 92) for overhead in (0.02, 0.2, 0.4)]
HOLDOUT_JOBS = [[48, 56, 0.1], [48, 76, 0.3], [36, 44, 0.2], [36, 60, 0.05]]


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


class CantBeLateEvaluator:
    """Scores a single-region strategy on the ADRS runs; holdout runs apart."""

    def __init__(
        self,
        problem_dir: Path,
        traces: str = "data/traces.json",
        train_set: str = "adrs",
        jobs: list[list[float]] | None = None,
        holdout_set: str | None = "holdout",
        holdout_jobs: list[list[float]] | None = None,
        late_penalty: float | None = None,
        memory_mb: int = 2048,
    ) -> None:
        path = resolve(problem_dir, traces, "traces")
        if late_penalty is not None and (
            isinstance(late_penalty, bool) or not isinstance(late_penalty, (int, float))
            or late_penalty < 0
        ):
            raise UserError(f"must be a non-negative number, got {late_penalty!r}",
                            "evaluator_args.late_penalty")
        self.late_penalty = late_penalty
        self.memory_mb = int(memory_mb)
        self.train = self._load(path, train_set, job_specs(jobs or ADRS_JOBS, "jobs"),
                                "train_set")
        self.holdout = (
            self._load(path, holdout_set, job_specs(holdout_jobs or HOLDOUT_JOBS,
                                                    "holdout_jobs"), "holdout_set")
            if holdout_set else None
        )

    @staticmethod
    def _load(path: Path, name: str, jobs: list[JobSpec], key: str) -> Schedule:
        try:
            return load_windows(path, name, jobs)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path.name}: {exc}", f"evaluator_args.{key}") from None

    def _score(self, schedule: Schedule, candidate: Path, context: EvaluationContext,
               what: str) -> Scored:
        outcome, seconds = run_schedule(schedule, candidate, context, self.memory_mb, what)
        return score_runs(schedule, outcome, self.late_penalty, seconds)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        try:
            scored = self._score(self.train, candidate_path, context, "train runs")
        except CandidateFault as fault:
            return EvaluationResult.invalid(fault.reason, **fault.artifacts)
        score = scored.combined(scored.penalised)
        metrics = scored.metrics()
        metrics["adrs_score"] = scored.combined(scored.adrs_cost)
        for group, value in scored.group_means(scored.cost).items():
            metrics[f"avg_cost_{group}"] = value
        instances = {g: -v for g, v in scored.group_means(scored.penalised).items()}
        return EvaluationResult(
            valid=True, score=score, metrics=metrics, instances=instances,
            holdout=self._holdout(candidate_path, context),
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
        holdout = {"valid": 1.0, "score": scored.combined(scored.penalised), **scored.metrics()}
        for group, value in scored.group_means(scored.cost).items():
            holdout[f"avg_cost_{group}"] = value
        return {k: float(v) for k, v in holdout.items() if np.isfinite(v)}
