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

import numpy as np

from evaluators.cant_be_late.base import SpotEvaluator, job_specs
from evaluators.cant_be_late.report import Scored
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationContext
from simulators.cant_be_late import JobSpec, Schedule, load_windows

ADRS_JOBS = [[48, deadline, overhead] for deadline in (52, 70, 92) for overhead in (0.02, 0.2, 0.4)]
HOLDOUT_JOBS = [[48, 56, 0.1], [48, 76, 0.3], [36, 44, 0.2], [36, 60, 0.05]]


class CantBeLateEvaluator(SpotEvaluator):
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
        super().__init__(problem_dir, traces, late_penalty, memory_mb)
        self.train = self._load(train_set, job_specs(jobs or ADRS_JOBS, "jobs"), "train_set")
        self.holdout = (
            self._load(holdout_set, job_specs(holdout_jobs or HOLDOUT_JOBS, "holdout_jobs"),
                       "holdout_set")
            if holdout_set else None
        )

    def _load(self, name: str, jobs: list[JobSpec], key: str) -> Schedule:
        try:
            return load_windows(self.traces, name, jobs)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{self.traces.name}: {exc}", f"evaluator_args.{key}") from None

    def combined(self, scored: Scored, costs: np.ndarray) -> float:
        return scored.combined(costs)

    def adrs_metrics(self, scored: Scored) -> dict[str, float]:
        return {"adrs_score": scored.combined(scored.adrs_cost)}

    def _holdout(self, candidate: Path, context: EvaluationContext) -> dict[str, float]:
        holdout = super()._holdout(candidate, context)
        return {k: float(v) for k, v in holdout.items() if np.isfinite(v)}
