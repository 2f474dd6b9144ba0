"""Spot scheduling across regions (ADRS ``cant-be-late-multi``): the evaluator.

The candidate's ``MultiRegionStrategy`` subclass (``_step`` plus ``self.env.switch_region``,
the published interface) runs only in the sandbox, one step at a time
(``evaluators/cant_be_late/session.py``); costs and finish times are replayed here
from its proposals. Train: the six ADRS scenarios (2 to 9 regions, 34 runs). Holdout:
other region sets on trace windows that share no time with the train windows.

    cost_i      = each tick at the price of its type, in the region and at the tick it ran
    penalised_i = cost_i + late_penalty if run i finished after its deadline
    score       = -(mean over scenarios of the scenario's mean penalised cost)
    adrs_score  = the same of the cost the ADRS simulator bills: every spot tick at the
                  first spot price of the region the run ends in (a flaw of the published
                  billing: moving to the cheapest region at the end reprices the whole run)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from evaluators.cant_be_late.evaluator import job_specs, resolve
from evaluators.cant_be_late.report import Scored, score_runs, summary_table
from evaluators.cant_be_late.session import run_schedule
from evaluators.harnessed import CandidateFault
from evolve.errors import UserError
from evolve.evaluation.types import EvaluationContext, EvaluationResult
from simulators.cant_be_late import JobSpec, Schedule
from simulators.cant_be_late_multi import (
    ADRS_SCENARIOS,
    Scenario,
    load_scenarios,
    scenario_from_dict,
)

HOLDOUT_WINDOWS = ["9", "15", "40", "56"]
HOLDOUT_SCENARIOS = [
    {"name": "2_zones_1d_1f", "regions": ["us-east-1d_v100_1", "us-east-1f_v100_1"]},
    {"name": "3_zones_west", "regions": ["us-west-2a_v100_1", "us-west-2b_v100_1",
                                         "us-west-2c_v100_1"]},
    {"name": "4_mixed", "regions": ["us-east-1c_v100_1", "us-east-2a_v100_1",
                                    "us-west-2b_v100_1", "us-east-1d_v100_1"]},
    {"name": "all_9_regions", "regions": list(ADRS_SCENARIOS[-1].regions)},
]
ADRS_JOBS = [[48, 52, 0.2]]
HOLDOUT_JOBS = [[48, 52, 0.2], [40, 50, 0.1]]


def scenarios_arg(value: Any, key: str, windows: list[str] | None = None) -> list[Scenario]:
    """A list of {name, regions, windows}; ``windows`` fills in a missing one."""
    where = f"evaluator_args.{key}"
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise UserError("expected a list of {name, regions, windows}", where)
    out = []
    for item in value:
        item = dict(item)
        if windows is not None:
            item.setdefault("windows", windows)
        unknown = set(item) - {"name", "regions", "windows"}
        ok = (not unknown and isinstance(item.get("name"), str)
              and isinstance(item.get("regions"), list) and item["regions"]
              and isinstance(item.get("windows"), list) and item["windows"])
        if not ok:
            raise UserError(f"{item!r}: expected keys name, regions (list), windows (list)",
                            where)
        out.append(scenario_from_dict(item))
    return out


def scenario_score(scored: Scored, costs: np.ndarray) -> float:
    """Minus the mean over scenarios of each scenario's mean cost (the ADRS score)."""
    return -float(np.mean(list(scored.group_means(costs).values())))


class CantBeLateMultiEvaluator:
    """Scores a multi-region strategy on the ADRS scenarios; holdout scenarios apart."""

    def __init__(
        self,
        problem_dir: Path,
        traces: str = "data/traces.json",
        scenarios: list[dict[str, Any]] | None = None,
        jobs: list[list[float]] | None = None,
        holdout_scenarios: list[dict[str, Any]] | None = None,
        holdout_windows: list[str] | None = None,
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
        train = (ADRS_SCENARIOS if scenarios is None
                 else scenarios_arg(scenarios, "scenarios"))
        self.train = self._load(path, train, job_specs(jobs or ADRS_JOBS, "jobs"), "scenarios")
        windows = [str(w) for w in (holdout_windows or HOLDOUT_WINDOWS)]
        hold = scenarios_arg(holdout_scenarios or HOLDOUT_SCENARIOS, "holdout_scenarios",
                             windows)
        self.holdout = (
            self._load(path, hold, job_specs(holdout_jobs or HOLDOUT_JOBS, "holdout_jobs"),
                       "holdout_scenarios")
            if holdout_scenarios != [] else None
        )

    @staticmethod
    def _load(path: Path, scenarios: list[Scenario], jobs: list[JobSpec], key: str) -> Schedule:
        try:
            return load_scenarios(path, scenarios, jobs)
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
        metrics = scored.metrics()
        metrics["adrs_score"] = scenario_score(scored, scored.adrs_cost)
        metrics["adrs_billed_cost"] = float(np.mean(scored.adrs_cost))
        for group, value in scored.group_means(scored.cost).items():
            metrics[f"avg_cost_{group}"] = value
        instances = {g: -v for g, v in scored.group_means(scored.penalised).items()}
        return EvaluationResult(
            valid=True, score=scenario_score(scored, scored.penalised), metrics=metrics,
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
        holdout = {"valid": 1.0, "score": scenario_score(scored, scored.penalised),
                   **scored.metrics()}
        for group, value in scored.group_means(scored.cost).items():
            holdout[f"avg_cost_{group}"] = value
        return holdout
