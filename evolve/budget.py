"""Run budgets: the first one reached stops the run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from evolve.config import BudgetConfig
from evolve.database.records import RunCounters


@dataclass
class Budget:
    """Limits read against the run's stored counters (so a resumed run counts once).

    ``iterations`` is the run's total; wall time counts from this invocation's start.
    """

    iterations: int | None
    evaluations: int | None = None
    usd: float | None = None
    wall_time_s: float | None = None
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def for_invocation(
        cls, cfg: BudgetConfig, counters: RunCounters, extra_iterations: int | None = None
    ) -> Budget:
        """The configured budget, or ``extra_iterations`` more than already done."""
        iterations = cfg.iterations
        if extra_iterations is not None:
            iterations = counters.iterations + extra_iterations
        return cls(iterations, cfg.evaluations, cfg.usd, cfg.wall_time_s)

    def exhausted(self, counters: RunCounters) -> str:
        """The reason the run must stop, or "" while budget is left."""
        checks = (
            (self.iterations, counters.iterations, "iteration budget reached"),
            (self.evaluations, counters.evaluations, "evaluation budget reached"),
            (self.usd, counters.usd, "USD budget reached"),
            (self.wall_time_s, time.monotonic() - self.started, "wall-time budget reached"),
        )
        for limit, used, reason in checks:
            if limit is not None and used >= limit:
                return reason
        return ""

    def elapsed_s(self) -> float:
        return time.monotonic() - self.started
