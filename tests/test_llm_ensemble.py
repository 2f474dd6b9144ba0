"""build_backend, the weighted ensemble, the provider registry and the price table."""

from __future__ import annotations

import asyncio
import collections

import pytest

from evolve.config import LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm import BACKENDS, EnsembleBackend, OfflineMutationEngine, build_backend
from evolve.llm.base import GenerationParams
from evolve.llm.openai_backend import OpenAIBackend
from evolve.llm.pricing import lookup_price, price_for
from evolve.testing.backend_kit import check_backend_completes
from tests.support_fake_openai import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer() as fake:
        for name in ("small-model", "big-model"):
            fake.set_responder(name, lambda body, name=name: Reply.ok(f"answer from {name}"))
        yield fake


def two_model_config(server, weights=(1.0, 1.0)) -> LLMConfig:
    return LLMConfig(
        models=[
            ModelConfig(name="small-model", base_url=server.base_url, weight=weights[0]),
            ModelConfig(name="big-model", base_url=server.base_url, weight=weights[1]),
        ],
        retries=0,
    )


def test_no_models_gives_the_offline_engine():
    backend = build_backend(LLMConfig(), seed=3)
    assert isinstance(backend, OfflineMutationEngine)


def test_one_model_gives_that_backend(server):
    cfg = LLMConfig(models=[ModelConfig(name="small-model", base_url=server.base_url)])
    assert isinstance(build_backend(cfg, seed=0), OpenAIBackend)


async def _ask_many(backend, count):
    return await asyncio.gather(
        *(backend.complete(MESSAGES, GenerationParams()) for _ in range(count))
    )


def test_ensemble_uses_both_models_and_says_which_answered(server):
    backend = build_backend(two_model_config(server, weights=(3.0, 1.0)), seed=11)
    assert isinstance(backend, EnsembleBackend)
    completions = asyncio.run(_ask_many(backend, 80))
    by_model = collections.Counter(c.model for c in completions)
    assert set(by_model) == {"small-model", "big-model"}
    for completion in completions:
        assert completion.text == f"answer from {completion.model}"
    # weights 3:1 -> about 60 of 80; the seeded RNG makes this exact run reproducible
    assert 45 <= by_model["small-model"] <= 72
    assert collections.Counter(server.models_used()) == by_model


def test_ensemble_choices_are_seeded(server):
    def picks(seed):
        backend = build_backend(two_model_config(server), seed=seed)
        return [backend.pick().name for _ in range(30)]

    assert picks(5) == picks(5)
    assert picks(5) != picks(6)


def test_ensemble_passes_the_backend_kit(server):
    backend = build_backend(two_model_config(server), seed=0)
    completion = asyncio.run(check_backend_completes(backend, MESSAGES))
    assert completion.model in ("small-model", "big-model")


def test_ensemble_rejects_bad_weights():
    engine = OfflineMutationEngine(0)
    with pytest.raises(ValueError):
        EnsembleBackend([engine], [0.0], seed=0)
    with pytest.raises(ValueError):
        EnsembleBackend([engine], [1.0, 2.0], seed=0)


def test_registry_resolves_builtin_providers_and_rejects_unknown():
    assert BACKENDS.resolve("openai") is OpenAIBackend
    assert {"openai", "litellm"} <= set(BACKENDS.names())
    with pytest.raises(UserError) as caught:
        BACKENDS.resolve("no-such-provider", "llm.models[0].provider")
    assert "no-such-provider" in str(caught.value)


def test_price_table_lookup_and_override():
    assert lookup_price("gpt-4o-mini").in_per_mtok == 0.15
    assert lookup_price("openai/gpt-4o-2024-08-06").out_per_mtok == 10.0  # dated variant of gpt-4o
    assert lookup_price("gpt-4o-mini-2024-07-18").in_per_mtok == 0.15  # longest prefix wins
    assert lookup_price("my-local-llama") is None
    unknown = price_for(ModelConfig(name="my-local-llama"))
    assert not unknown.known and unknown.cost_usd(1000, 1000) == 0.0
    override = price_for(ModelConfig(name="gpt-4o", price_in_per_mtok=1.0, price_out_per_mtok=2.0))
    assert override.cost_usd(1_000_000, 500_000) == pytest.approx(2.0)
