"""LLM backends: the protocol, OpenAI-compatible and LiteLLM clients, the weighted
ensemble, the offline mutation engine, and :func:`build_backend` to assemble them."""

from __future__ import annotations

import random

from evolve.config import LLMConfig
from evolve.llm.base import (
    Completion,
    GenerationParams,
    LLMBackend,
    LLMError,
    estimate_tokens,
)
from evolve.llm.ensemble import EnsembleBackend
from evolve.llm.offline import OfflineMutationEngine
from evolve.registry import Registry

# provider name -> factory(model: ModelConfig, llm: LLMConfig, *, where, rng) -> LLMBackend
BACKENDS: Registry[LLMBackend] = Registry("LLM provider", entry_point_group="evolve.llm_backends")
BACKENDS.register("openai", "evolve.llm.openai_backend:OpenAIBackend")
BACKENDS.register("litellm", "evolve.llm.litellm_backend:LiteLLMBackend")
BACKENDS.register("offline", "evolve.llm.offline_model:OfflineModel")


def build_backend(cfg: LLMConfig, seed: int) -> LLMBackend:
    """The offline engine when no model is configured; else one backend per model,
    combined in a seeded weighted ensemble when there are several."""
    if not cfg.models:
        return OfflineMutationEngine(seed)
    backends: list[LLMBackend] = []
    for index, model in enumerate(cfg.models):
        where = f"llm.models[{index}]"
        factory = BACKENDS.resolve(model.provider, f"{where}.provider")
        # Jitter RNG per model, derived from the run seed: reproducible backoff schedules.
        rng = random.Random(f"{seed}:{index}:{model.name}")
        backends.append(factory(model, cfg, where=where, rng=rng))
    if len(backends) == 1:
        return backends[0]
    selector = None
    if cfg.selection != "weighted":
        from evolve.search.bandit import create_selector

        selector = create_selector(cfg.selection, cfg.bandit)
    return EnsembleBackend(backends, [m.weight for m in cfg.models], seed, selector=selector)


__all__ = [
    "BACKENDS",
    "Completion",
    "EnsembleBackend",
    "GenerationParams",
    "LLMBackend",
    "LLMError",
    "OfflineMutationEngine",
    "build_backend",
    "estimate_tokens",
]
