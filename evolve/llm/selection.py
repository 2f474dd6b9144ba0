"""Model selection strategies for an ensemble: fixed weights or a cost-aware UCB bandit.

A strategy (``ModelSelector``) picks which model answers the next call; a
``LearningSelector`` also learns from what the child it wrote achieved (the ``bandit``
search hook, ``evolve.search.bandit``, feeds it the rewards). ``weighted`` draws in
proportion to the configured weights and learns nothing (the default). ``ucb`` is a
cost-aware upper confidence bound bandit in the spirit of ShinkaEvolve's model selection:

    reward  = clip((child score - parent score) / |parent score|, 0, reward_clip) / reward_clip
    value_i = mean reward_i + exploration * sqrt(ln(total pulls) / pulls_i)
    pick      argmax_i value_i / (mean cost_i / cheapest mean cost) ** cost_weight

An invalid child or an edit that did not apply earns 0. Pulls are counted when a
model is picked, so concurrent calls spread over the models instead of all piling on
the current leader before any reward arrives. The state is plain data
(``state()`` / ``load()``) so the run can persist it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from evolve.config import BanditConfig
from evolve.registry import Registry


@runtime_checkable
class ModelSelector(Protocol):
    def choose(self, names: Sequence[str], weights: Sequence[float], rng: random.Random) -> int: ...


@runtime_checkable
class LearningSelector(ModelSelector, Protocol):
    """A selector that learns from rewards; its state is plain data, persisted by the run."""

    def update(self, name: str, reward: float, cost_usd: float) -> None: ...

    def state(self) -> dict[str, Any]: ...

    def load(self, state: dict[str, Any]) -> None: ...


class WeightedSelector:
    """Fixed weights: the probability of a model is its weight over the sum."""

    def __init__(self, cfg: BanditConfig | None = None) -> None:
        self.cfg = cfg

    def choose(self, names: Sequence[str], weights: Sequence[float], rng: random.Random) -> int:
        return rng.choices(range(len(names)), weights=weights, k=1)[0]


class CostAwareUCB:
    """UCB1 over models with rewards in [0, 1], discounted by relative cost."""

    def __init__(self, cfg: BanditConfig | None = None) -> None:
        self.cfg = cfg or BanditConfig()
        self.arms: dict[str, dict[str, float]] = {}

    def _arm(self, name: str) -> dict[str, float]:
        return self.arms.setdefault(name, {"pulls": 0, "updates": 0, "reward": 0.0, "cost": 0.0})

    def values(self, names: Sequence[str]) -> list[float]:
        """The cost-discounted UCB value of each model (inf for a model never tried)."""
        arms = [self._arm(n) for n in names]
        total = sum(a["pulls"] for a in arms)
        costs = [a["cost"] / a["updates"] for a in arms if a["updates"] and a["cost"] > 0]
        cheapest = min(costs) if costs else 0.0
        values = []
        for arm in arms:
            if arm["pulls"] == 0:
                values.append(math.inf)
                continue
            mean = arm["reward"] / arm["updates"] if arm["updates"] else 0.0
            value = mean + self.cfg.exploration * math.sqrt(math.log(max(total, 1)) / arm["pulls"])
            if cheapest > 0 and arm["updates"] and arm["cost"] > 0:
                value /= ((arm["cost"] / arm["updates"]) / cheapest) ** self.cfg.cost_weight
            values.append(value)
        return values

    def choose(self, names: Sequence[str], weights: Sequence[float], rng: random.Random) -> int:
        values = self.values(names)
        top = max(values)
        # Ties (e.g. several untried models) go to the configured weights.
        tied = [i for i, v in enumerate(values) if v == top or math.isclose(v, top, rel_tol=1e-12)]
        if len(tied) == 1:
            index = tied[0]
        else:
            index = rng.choices(tied, weights=[weights[i] for i in tied], k=1)[0]
        self._arm(names[index])["pulls"] += 1
        return index

    def update(self, name: str, reward: float, cost_usd: float) -> None:
        arm = self._arm(name)
        arm["updates"] += 1
        arm["reward"] += min(max(float(reward), 0.0), 1.0)
        arm["cost"] += max(float(cost_usd), 0.0)
        arm["pulls"] = max(arm["pulls"], arm["updates"])  # a resumed state may lack pending pulls

    def state(self) -> dict[str, Any]:
        return {name: dict(arm) for name, arm in self.arms.items()}

    def load(self, state: dict[str, Any]) -> None:
        self.arms = {}
        for name, arm in state.items():
            loaded = self._arm(str(name))
            for key in loaded:
                loaded[key] = float(arm.get(key, 0.0))
            # Picks whose outcome never arrived (in flight at the crash) are not counted again.
            loaded["pulls"] = loaded["updates"]


# name -> factory(cfg: BanditConfig) -> ModelSelector
MODEL_SELECTORS: Registry[ModelSelector] = Registry(
    "model selector", entry_point_group="evolve.model_selectors"
)
MODEL_SELECTORS.register("weighted", WeightedSelector)
MODEL_SELECTORS.register("ucb", CostAwareUCB)


def create_selector(name: str | ModelSelector, cfg: BanditConfig | None = None) -> ModelSelector:
    """A selector by registry name / ``module:attr``, or the given instance unchanged."""
    if not isinstance(name, str):
        return name
    return MODEL_SELECTORS.resolve(name, "llm.selection")(cfg or BanditConfig())
