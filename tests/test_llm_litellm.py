"""LiteLLMBackend against the fake OpenAI-compatible server (skipped without litellm)."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from evolve.config import LLMConfig, ModelConfig
from evolve.llm.base import GenerationParams
from evolve.testing.backend_kit import check_backend_completes, check_backend_fails_cleanly
from tests.support_fake_openai import FakeOpenAIServer, Reply

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("litellm") is None, reason="litellm not installed"
)

MESSAGES = [{"role": "user", "content": "hello there " * 10}]


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(default_text="litellm answer") as fake:
        yield fake


def make_backend(server, retries=2, **model_kw):
    from evolve.llm.litellm_backend import LiteLLMBackend

    model = ModelConfig(
        name="openai/fake-model", provider="litellm", base_url=server.base_url, **model_kw
    )
    return LiteLLMBackend(
        model, LLMConfig(models=[model], retries=retries, backoff_s=0.01), sleep=SleepRecorder()
    )


def test_litellm_completes_against_the_fake_server(server):
    server.requests.clear()
    completion = asyncio.run(
        check_backend_completes(make_backend(server), MESSAGES, GenerationParams(max_tokens=50))
    )
    assert completion.text == "litellm answer"
    assert completion.model == "openai/fake-model"
    assert completion.prompt_tokens == len(MESSAGES[0]["content"]) // 4
    assert server.models_used() == ["fake-model"]  # litellm strips its provider prefix


def test_litellm_cost_uses_the_configured_price(server):
    backend = make_backend(server, price_in_per_mtok=1000.0, price_out_per_mtok=2000.0)
    completion = asyncio.run(backend.complete(MESSAGES, GenerationParams()))
    expected = (completion.prompt_tokens * 1000.0 + completion.completion_tokens * 2000.0) / 1e6
    assert completion.cost_usd == pytest.approx(expected)


def test_litellm_retries_are_ours_and_bounded(server):
    server.requests.clear()
    server.set_responder("fake-model", lambda body: Reply.error(500, "boom"))
    try:
        error = asyncio.run(check_backend_fails_cleanly(make_backend(server, retries=2), MESSAGES))
    finally:
        server.responders.clear()
    assert error.kind == "server"
    assert server.request_count == 3


def test_litellm_auth_error_is_not_retried(server):
    server.requests.clear()
    server.enqueue(Reply.error(401, "bad key"))
    error = asyncio.run(check_backend_fails_cleanly(make_backend(server), MESSAGES))
    assert error.kind == "auth"
    assert server.request_count == 1


def test_litellm_rate_limit_retry_after(server):
    server.enqueue(Reply.error(429, "later", retry_after="4"), Reply.ok("done"))
    backend = make_backend(server)
    completion = asyncio.run(backend.complete(MESSAGES, GenerationParams()))
    assert completion.text == "done"
    assert backend._sleep.delays == [4.0]
