"""The ``bandit`` search hook: rewards an ensemble's learning model selector.

With ``llm.selection: ucb`` (or another :class:`~evolve.llm.selection.LearningSelector`)
each model that answered is credited with what the child it wrote achieved:

    reward = clip((child score - parent score) / |parent score|, 0, reward_clip) / reward_clip

An invalid child, an edit that did not apply, and every answer but an iteration's last
earn 0. The selector's state is stored as ``bandit_state`` events and loaded on resume.
The selection strategies themselves live in ``evolve.llm.selection``.
"""

from __future__ import annotations

import math
from typing import Any

from evolve.config import BanditConfig
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord
from evolve.llm.selection import LearningSelector
from evolve.search.hooks import HookServices, Plan, SearchHook

BANDIT_EVENT = "bandit_state"


def improvement_reward(
    parent_score: float | None, child_score: float | None, valid: bool, reward_clip: float
) -> float:
    """Clipped relative improvement of the child over its parent, scaled to [0, 1]."""
    if not valid or child_score is None or parent_score is None:
        return 0.0
    if not (math.isfinite(child_score) and math.isfinite(parent_score)):
        return 0.0
    scale = max(abs(parent_score), 1e-12)
    gain = (child_score - parent_score) / scale
    return min(max(gain, 0.0), reward_clip) / reward_clip


class BanditHook(SearchHook):
    """Feeds rewards to the ensemble's learning model selector."""

    state_kind = BANDIT_EVENT

    def __init__(
        self, services: HookServices, selector: LearningSelector, settings: BanditConfig
    ) -> None:
        self.selector = selector
        self.reward_clip = settings.reward_clip
        self._changed = False

    def resume(self, state: dict[str, Any] | None, programs: list[ProgramRecord]) -> None:
        if state is not None:
            self.selector.load(state.get("arms", {}))

    async def after_outcome(self, attempt: Attempt, plan: Plan) -> None:
        calls = attempt.calls
        if not calls or attempt.outcome in (Outcome.LLM_FAILED, Outcome.STOPPED):
            return  # the answer never came: nothing to credit
        for call in calls[:-1]:
            self.selector.update(call.model, 0.0, call.cost_usd)
        child, parent = attempt.program, plan.parent
        reward = 0.0
        if child is not None:
            reward = improvement_reward(
                parent.score if parent.valid else None, child.score, child.valid, self.reward_clip
            )
        self.selector.update(calls[-1].model, reward, calls[-1].cost_usd)
        self._changed = True

    def state(self) -> dict[str, Any] | None:
        if not self._changed:
            return None
        self._changed = False
        return {"arms": self.selector.state()}
