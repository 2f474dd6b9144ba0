"""Choice among several backends, one model per call: fixed weights or a selector strategy."""

from __future__ import annotations

import random
from collections.abc import Sequence

from evolve.llm.base import ClosableBackend, Completion, GenerationParams, LLMBackend
from evolve.llm.selection import LearningSelector, ModelSelector, create_selector


class EnsembleBackend:
    """Picks a backend per call with probability proportional to its weight.

    The pick uses a seeded RNG, so a run's sequence of model choices is reproducible;
    the returned :class:`Completion` names the model that answered. A failure is not
    retried on another model: each backend already retried, and the controller decides.
    """

    def __init__(self, backends: Sequence[LLMBackend], weights: Sequence[float], seed: int,
                 selector: str | ModelSelector | None = None) -> None:
        if not backends:
            raise ValueError("an ensemble needs at least one backend")
        if len(weights) != len(backends):
            raise ValueError(f"{len(backends)} backends but {len(weights)} weights")
        if any(w <= 0 for w in weights):
            raise ValueError("ensemble weights must be positive")
        self.backends = list(backends)
        self.weights = [float(w) for w in weights]
        self._rng = random.Random(seed)
        self.name = "ensemble(" + ",".join(b.name for b in self.backends) + ")"
        self.calls = {b.name: 0 for b in self.backends}
        # A ModelSelector (evolve.llm.selection): name, module:attr or instance; None = weights.
        self.selector = create_selector(selector) if selector is not None else None

    def pick(self) -> LLMBackend:
        if self.selector is not None:
            names = [b.name for b in self.backends]
            backend = self.backends[self.selector.choose(names, self.weights, self._rng)]
        else:
            backend = self._rng.choices(self.backends, weights=self.weights, k=1)[0]
        self.calls[backend.name] = self.calls.get(backend.name, 0) + 1
        return backend

    @property
    def learning_selector(self) -> LearningSelector | None:
        """The selector when it learns from rewards (the bandit hook feeds it)."""
        return self.selector if isinstance(self.selector, LearningSelector) else None

    async def aclose(self) -> None:
        for backend in self.backends:
            if isinstance(backend, ClosableBackend):
                await backend.aclose()

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        return await self.pick().complete(messages, params)
