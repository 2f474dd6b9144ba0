"""Adaptive exploration: explore when progress stalls, exploit while the best climbs.

The strategy for an iteration is a function of how many iterations ago the run's best
score last improved (AutoEvolve's idea of switching between the two regimes):

- a new best within ``climb_window`` iterations: "exploit" (exploit.j2: refine what
  works, small steps; ``exploit_temperature``);
- no new best for ``stall_iterations``: "explore" (explore.j2: a different approach,
  larger steps; ``explore_temperature``);
- in between: "" (the ordinary diff/rewrite templates and the run's temperature).

Being a function of stored facts (the best program's iteration), it needs no state of
its own and continues correctly after a resume. ``ExplorationHook`` is the search hook.
"""

from __future__ import annotations

from dataclasses import dataclass

from evolve.config import ExplorationConfig
from evolve.search.hooks import HookServices, Plan, PromptNotes, SearchHook


@dataclass
class Strategy:
    name: str  # "explore" | "exploit" | ""
    temperature: float


def choose_strategy(
    cfg: ExplorationConfig, iteration: int, best_iteration: int, temperature: float
) -> Strategy:
    """The strategy for ``iteration`` given the iteration of the latest new best."""
    if not cfg.enabled:
        return Strategy("", temperature)
    since_best = iteration - best_iteration
    if best_iteration > 0 and since_best <= cfg.climb_window:
        return Strategy("exploit", cfg.exploit_temperature)
    if since_best >= cfg.stall_iterations:
        return Strategy("explore", cfg.explore_temperature)
    return Strategy("", temperature)


class ExplorationHook(SearchHook):
    """Sets the prompt template and temperature from the run's progress."""

    def __init__(self, services: HookServices, settings: ExplorationConfig) -> None:
        self.settings = settings
        self.temperature = services.llm.temperature

    def before_prompt(self, plan: Plan) -> PromptNotes | None:
        chosen = choose_strategy(self.settings, plan.iteration, plan.best_iteration,
                                 self.temperature)  # fmt: skip
        if not chosen.name:
            return None
        return PromptNotes(strategy=chosen.name, temperature=chosen.temperature)
