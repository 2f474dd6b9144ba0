"""Trusted figures for a replayed schedule: per-run costs, lateness, group summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.cant_be_late import ON_DEMAND_PRICE, Outcome, Schedule


@dataclass
class Scored:
    schedule: Schedule
    outcome: Outcome
    penalty: np.ndarray  # per run, charged if it finished late
    candidate_s: float = 0.0  # time in the candidate's calls, on the sandbox's clock

    @property
    def cost(self) -> np.ndarray:
        return self.outcome.cost

    @property
    def adrs_cost(self) -> np.ndarray:
        return self.outcome.adrs_cost

    @property
    def late(self) -> np.ndarray:
        return self.outcome.late_s > 0

    @property
    def penalised(self) -> np.ndarray:
        return self.cost + np.where(self.late, self.penalty, 0.0)

    @staticmethod
    def combined(costs: np.ndarray) -> float:
        """The ADRS combined score of a set of costs: -(mean + 0.25 * population std)."""
        return float(-np.mean(costs) - 0.25 * np.std(costs))

    def group_means(self, costs: np.ndarray) -> dict[str, float]:
        groups: dict[str, list[float]] = {}
        for run, value in zip(self.schedule.runs, costs):
            groups.setdefault(run.group, []).append(float(value))
        return {g: float(np.mean(v)) for g, v in groups.items()}

    def metrics(self) -> dict[str, float]:
        late_s = self.outcome.late_s
        return {
            "avg_cost": float(np.mean(self.cost)),
            "cost_std": float(np.std(self.cost)),
            "min_cost": float(np.min(self.cost)),
            "max_cost": float(np.max(self.cost)),
            "avg_penalised_cost": float(np.mean(self.penalised)),
            "late_runs": float(np.sum(self.late)),
            "max_late_min": float(np.max(late_s) / 60.0),
            "spot_hours": float(np.sum(self.outcome.spot_ticks * self._gap_h())),
            "on_demand_hours": float(np.sum(self.outcome.on_demand_ticks * self._gap_h())),
            "runs": float(len(self.cost)),
            "candidate_time_s": self.candidate_s,
        }

    def _gap_h(self) -> np.ndarray:
        return np.array([r.gap_s / 3600 for r in self.schedule.runs])

    def late_text(self, top: int = 8) -> str:
        late = np.flatnonzero(self.late)
        if not len(late):
            return "every run finished by its deadline"
        order = sorted(late, key=lambda i: -self.outcome.late_s[i])[:top]
        lines = [f"{len(late)} runs finished after their deadline (each charged its penalty):"]
        for i in order:
            lines.append(f"- {self.schedule.runs[i].label}: "
                         f"{self.outcome.late_s[i] / 60:.1f} min late")
        return "\n".join(lines)


def score_runs(schedule: Schedule, outcome: Outcome, late_penalty: float | None,
               candidate_s: float = 0.0) -> Scored:
    """``late_penalty`` None: each run's on-demand price for its whole job."""
    if late_penalty is None:
        penalty = np.array([r.job.duration_h * ON_DEMAND_PRICE for r in schedule.runs])
    else:
        penalty = np.full(len(schedule.runs), float(late_penalty))
    return Scored(schedule, outcome, penalty, candidate_s)


def summary_table(scored: Scored, top: int = 6) -> str:
    """Worst (group, job) cells by mean cost: where a strategy loses the most."""
    cells: dict[tuple[str, str], list[int]] = {}
    for i, run in enumerate(scored.schedule.runs):
        cells.setdefault((run.group, run.job.label), []).append(i)
    rows = []
    for (group, job), idx in cells.items():
        cost = scored.cost[idx]
        rows.append((float(np.mean(cost)), group, job, float(np.std(cost)),
                     int(np.sum(scored.late[idx])), len(idx)))
    rows.sort(reverse=True)
    lines = ["group | job (duration, deadline, overhead h) | mean cost $ | std $ | late | runs"]
    for mean, group, job, std, late, n in rows[:top]:
        lines.append(f"{group} | {job} | {mean:.2f} | {std:.2f} | {late} | {n}")
    return "\n".join(lines)
