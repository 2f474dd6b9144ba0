"""LLM backends: the protocol, OpenAI-compatible and LiteLLM clients, the weighted
ensemble, the offline mutation engine, and :func:`build_backend` to assemble them."""

from __future__ import annotations

import random

from evolve.config import LLMConfig
from evolve.llm.base import (
    Completion,
    EditRequest,
    GenerationParams,
    LLMBackend,
    LLMError,
    estimate_tokens,
)
from evolve.llm.ensemble import EnsembleBackend
from evolve.llm.offline import OfflineMutationEngine
from evolve.llm.selection import create_selector
from evolve.registry import Registry

# provider name -> factory(model: ModelConfig, llm: LLMConfig, *, where, rng, **model.args)
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
        # Jitter RNG per model, derived from the run seed: reproducible backoff schedules.
        rng = random.Random(f"{seed}:{index}:{model.name}")
        backend = BACKENDS.create(model.provider, model.args, where, "provider",
                                  model=model, llm=cfg, where=where, rng=rng)  # fmt: skip
        if not isinstance(backend, LLMBackend):
            raise BACKENDS.wrong_type(model.provider, "LLMBackend", where, "provider")
        backends.append(backend)
    if len(backends) == 1:
        return backends[0]
    selector = None
    if cfg.selection != "weighted":
        selector = create_selector(cfg.selection, cfg.bandit)
    return EnsembleBackend(backends, [m.weight for m in cfg.models], seed, selector=selector)


def primary_backend(backend: LLMBackend) -> LLMBackend:
    """The first configured model (side calls such as a judge go there)."""
    return backend.backends[0] if isinstance(backend, EnsembleBackend) else backend


__all__ = [
    "BACKENDS",
    "Completion",
    "EditRequest",
    "EnsembleBackend",
    "GenerationParams",
    "LLMBackend",
    "LLMError",
    "OfflineMutationEngine",
    "build_backend",
    "estimate_tokens",
    "primary_backend",
]
