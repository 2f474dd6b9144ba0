"""OpenAIBackend against a fake OpenAI-compatible server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random

import pytest

from evolve.config import LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm.base import GenerationParams, LLMError
from evolve.llm.openai_backend import OpenAIBackend, is_local_url
from evolve.llm.retry import MAX_RETRY_AFTER_S
from evolve.testing.backend_kit import check_backend_completes, check_backend_fails_cleanly
from tests.support_fake_openai import FakeOpenAIServer, Reply

MESSAGES = [{"role": "user", "content": "improve the program " * 20}]


@pytest.fixture
def server(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer(default_text="an answer") as fake:
        yield fake


class SleepRecorder:
    """Stands in for asyncio.sleep so backoff delays are checked, not waited for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def make_backend(server, *, retries=3, backoff_s=0.5, name="gpt-4o-mini", sleep=None, **model_kw):
    model = ModelConfig(name=name, base_url=server.base_url, **model_kw)
    llm = LLMConfig(models=[model], retries=retries, backoff_s=backoff_s, timeout_s=5)
    return OpenAIBackend(model, llm, sleep=sleep or SleepRecorder(), rng=random.Random(0))


def run(coro):
    return asyncio.run(coro)


def test_success_records_usage_cost_and_model(server):
    backend = make_backend(server)
    completion = run(
        check_backend_completes(backend, MESSAGES, GenerationParams(max_tokens=64, seed=5))
    )
    assert completion.text == "an answer"
    assert completion.model == "gpt-4o-mini"
    assert completion.prompt_tokens == len(MESSAGES[0]["content"]) // 4  # the server's usage
    assert completion.completion_tokens == len("an answer") // 4
    expected = (completion.prompt_tokens * 0.15 + completion.completion_tokens * 0.60) / 1e6
    assert completion.cost_usd == pytest.approx(expected)
    assert completion.finish_reason == "stop"
    body = server.requests[0]["body"]
    assert body["model"] == "gpt-4o-mini" and body["max_tokens"] == 64 and body["seed"] == 5
    assert server.requests[0]["headers"]["authorization"] == "Bearer EMPTY"  # local server, no key


def test_missing_usage_is_estimated(server):
    server.enqueue(Reply.ok("x" * 400, usage=False))
    completion = run(make_backend(server).complete(MESSAGES, GenerationParams()))
    assert completion.completion_tokens == 100
    assert completion.prompt_tokens > 0


def test_server_errors_are_retried_a_bounded_number_of_times(server):
    server.set_responder("gpt-4o-mini", lambda body: Reply.error(500, "boom"))
    sleep = SleepRecorder()
    backend = make_backend(server, retries=2, backoff_s=1.0, sleep=sleep)
    error = run(check_backend_fails_cleanly(backend, MESSAGES))
    assert error.kind == "server"
    assert server.request_count == 3  # 1 + retries, no hidden client retries
    assert len(sleep.delays) == 2
    # exponential backoff with jitter in [0.5, 1] of the ceiling
    assert 0.5 <= sleep.delays[0] <= 1.0 and 1.0 <= sleep.delays[1] <= 2.0


def test_retry_after_is_honoured_on_429(server):
    server.enqueue(Reply.error(429, "slow down", retry_after="7"), Reply.ok("after the wait"))
    sleep = SleepRecorder()
    completion = run(
        make_backend(server, backoff_s=0.1, sleep=sleep).complete(MESSAGES, GenerationParams())
    )
    assert completion.text == "after the wait"
    assert server.request_count == 2
    assert sleep.delays == [7.0]


def test_retry_after_is_capped(server):
    server.enqueue(Reply.error(429, retry_after="100000"), Reply.ok("fine"))
    sleep = SleepRecorder()
    run(make_backend(server, sleep=sleep).complete(MESSAGES, GenerationParams()))
    assert sleep.delays == [MAX_RETRY_AFTER_S]


@pytest.mark.parametrize(
    "status,kind", [(401, "auth"), (403, "auth"), (400, "bad_request"), (404, "bad_request")]
)
def test_client_errors_are_not_retried(server, status, kind):
    server.set_responder("gpt-4o-mini", lambda body: Reply.error(status, "nope"))
    error = run(check_backend_fails_cleanly(make_backend(server), MESSAGES))
    assert error.kind == kind
    assert server.request_count == 1
    if kind == "auth":
        assert "OPENAI_API_KEY" in error.message


def test_timeouts_are_retried_then_reported(server):
    server.set_responder("gpt-4o-mini", lambda body: Reply.slow(3.0))
    backend = make_backend(server, retries=1)
    error = run(check_backend_fails_cleanly(backend, MESSAGES, GenerationParams(timeout_s=0.3)))
    assert error.kind == "timeout"
    assert server.request_count == 2


def test_connection_reset_is_retried(server):
    server.enqueue(Reply.reset(), Reply.ok("second try"))
    completion = run(make_backend(server).complete(MESSAGES, GenerationParams()))
    assert completion.text == "second try"
    assert server.request_count == 2


def test_connection_refused_is_a_connection_error():
    with FakeOpenAIServer() as fake:
        dead_url = fake.base_url
    model = ModelConfig(name="m", base_url=dead_url)
    backend = OpenAIBackend(model, LLMConfig(models=[model], retries=1), sleep=SleepRecorder())
    error = run(check_backend_fails_cleanly(backend, MESSAGES))
    assert error.kind == "connection"


def test_empty_content_is_retried_then_reported(server):
    server.set_responder("gpt-4o-mini", lambda body: Reply.empty())
    error = run(check_backend_fails_cleanly(make_backend(server, retries=2), MESSAGES))
    assert error.kind == "empty"
    assert server.request_count == 3
    server.responders.clear()
    server.enqueue(Reply.empty(), Reply.ok("now with text"))
    assert run(make_backend(server).complete(MESSAGES, GenerationParams())).text == "now with text"


def test_truncated_answer_is_returned_with_its_finish_reason(server):
    server.enqueue(Reply.truncated("<<<<<<< SEARCH\nx = 1\n===="))
    completion = run(make_backend(server).complete(MESSAGES, GenerationParams()))
    assert completion.finish_reason == "length"
    assert completion.text.endswith("====")


def test_max_tokens_rejection_switches_to_max_completion_tokens(server):
    message = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    server.enqueue(Reply.error(400, message), Reply.ok("ok"))
    backend = make_backend(server)
    run(backend.complete(MESSAGES, GenerationParams(max_tokens=33)))
    first, second = (r["body"] for r in server.requests)
    assert first["max_tokens"] == 33 and "max_completion_tokens" not in first
    assert second["max_completion_tokens"] == 33 and "max_tokens" not in second


def test_model_temperature_overrides_the_call(server):
    run(make_backend(server, temperature=0.2).complete(MESSAGES, GenerationParams(temperature=0.9)))
    assert server.requests[0]["body"]["temperature"] == 0.2


def test_api_key_comes_from_the_named_variable(server, monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-test-123")
    run(make_backend(server, api_key_env="MY_LLM_KEY").complete(MESSAGES, GenerationParams()))
    assert server.requests[0]["headers"]["authorization"] == "Bearer sk-test-123"


def test_missing_key_for_a_remote_server_names_the_variable(monkeypatch):
    monkeypatch.delenv("SOME_PROVIDER_KEY", raising=False)
    model = ModelConfig(
        name="gpt-4o", base_url="https://api.example.com/v1", api_key_env="SOME_PROVIDER_KEY"
    )
    with pytest.raises(UserError) as caught:
        OpenAIBackend(model, LLMConfig(models=[model]), where="llm.models[0]")
    assert "SOME_PROVIDER_KEY" in str(caught.value)
    assert caught.value.where == "llm.models[0].api_key_env"


def test_local_url_detection():
    assert is_local_url("http://127.0.0.1:8000/v1")
    assert is_local_url("http://localhost:8000/v1")
    assert is_local_url("http://10.1.2.3/v1")
    assert is_local_url("http://gpu-node-7:8000/v1")
    assert not is_local_url("https://api.openai.com/v1")
    assert not is_local_url(None)


def test_llm_error_rejects_unknown_kind():
    with pytest.raises(ValueError):
        LLMError("weird", "x")


def test_backend_closes_its_connection_pool(server):
    backend = make_backend(server)

    async def use_and_close():
        await backend.complete(MESSAGES, GenerationParams())
        await backend.aclose()
        return await backend.complete(MESSAGES, GenerationParams())  # reopens on demand

    assert run(use_and_close()).text == "an answer"
    assert server.request_count == 2


def test_build_backend_reports_the_missing_key_by_config_path(monkeypatch):
    from evolve.llm import build_backend

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = LLMConfig(models=[ModelConfig(name="gpt-4o")])  # api.openai.com, no key set
    with pytest.raises(UserError) as caught:
        build_backend(cfg, seed=0)
    assert caught.value.where == "llm.models[0].api_key_env"
    assert "OPENAI_API_KEY" in caught.value.message
