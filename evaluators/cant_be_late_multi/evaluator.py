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

from evaluators.cant_be_late.base import SpotEvaluator, job_specs
from evaluators.cant_be_late.report import Scored
from evolve.errors import UserError
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


class CantBeLateMultiEvaluator(SpotEvaluator):
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
        super().__init__(problem_dir, traces, late_penalty, memory_mb)
        train = (ADRS_SCENARIOS if scenarios is None
                 else scenarios_arg(scenarios, "scenarios"))
        self.train = self._load(train, job_specs(jobs or ADRS_JOBS, "jobs"), "scenarios")
        windows = [str(w) for w in (holdout_windows or HOLDOUT_WINDOWS)]
        hold = scenarios_arg(holdout_scenarios or HOLDOUT_SCENARIOS, "holdout_scenarios",
                             windows)
        self.holdout = (
            self._load(hold, job_specs(holdout_jobs or HOLDOUT_JOBS, "holdout_jobs"),
                       "holdout_scenarios")
            if holdout_scenarios != [] else None
        )

    def _load(self, scenarios: list[Scenario], jobs: list[JobSpec], key: str) -> Schedule:
        try:
            return load_scenarios(self.traces, scenarios, jobs)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{self.traces.name}: {exc}", f"evaluator_args.{key}") from None

    def combined(self, scored: Scored, costs: np.ndarray) -> float:
        return scenario_score(scored, costs)

    def adrs_metrics(self, scored: Scored) -> dict[str, float]:
        return {"adrs_score": scenario_score(scored, scored.adrs_cost),
                "adrs_billed_cost": float(np.mean(scored.adrs_cost))}
