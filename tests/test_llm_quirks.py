"""Provider quirks against the fake servers, over real HTTP: rejected parameters dropped or
renamed once and remembered, extra request fields passed through, reasoning kept apart,
error pages summarised. LiteLLM runs its real code path (its Anthropic provider against
the fake's Messages API)."""

from __future__ import annotations

import asyncio
import importlib.util
import random
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply

from evolve.config import LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm import build_backend
from evolve.llm.base import GenerationParams, LLMError
from evolve.llm.http_errors import summarise_response, summarise_text
from evolve.llm.openai_backend import OpenAIBackend
from evolve.llm.reasoning import answer_body, split_reasoning
from evolve.llm.transcript import Redactor, TranscriptPolicy

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
needs_litellm = pytest.mark.skipif(importlib.util.find_spec("litellm") is None,
                                   reason="litellm not installed")


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with FakeOpenAIServer(default_text="fine") as fake:
        yield fake


def backend(server: FakeOpenAIServer, name: str = "m", **args: Any) -> OpenAIBackend:
    model = ModelConfig(name=name, base_url=server.base_url)
    return OpenAIBackend(model, LLMConfig(models=[model], retries=0), rng=random.Random(0), **args)


def complete(b: Any, **params: Any) -> Any:
    return asyncio.run(b.complete(MESSAGES, GenerationParams(**params)))


def rejecting(name: str, message: str):  # type: ignore[no-untyped-def]
    def respond(body: dict[str, Any]) -> Reply:
        return Reply.error(400, message) if name in body else Reply.ok("fine")
    return respond


@pytest.mark.parametrize("param,message", [
    ("seed", "Unrecognized request argument supplied: seed"),
    ("temperature", "Unsupported value: 'temperature' does not support 0.7 with this model. "
                    "Only the default (1) value is supported."),
])
def test_a_rejected_parameter_is_dropped_once_and_remembered(server, param, message):
    server.set_responder("m", rejecting(param, message))
    b = backend(server)
    first = complete(b, seed=5, temperature=0.7)
    second = complete(b, seed=6, temperature=0.7)
    bodies = [r["body"] for r in server.requests]
    assert len(bodies) == 3 and param in bodies[0]
    assert param not in bodies[1] and param not in bodies[2]
    assert len(first.notes) == 1 and f"rejected '{param}'; it is no longer sent" in first.notes[0]
    assert first.notes[0].startswith("model m: ") and second.notes == []


def test_max_tokens_is_renamed_for_models_that_want_max_completion_tokens(server):
    server.set_responder("m", rejecting(
        "max_tokens", "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead."))
    b = backend(server)
    completion = complete(b, max_tokens=77)
    assert server.requests[-1]["body"]["max_completion_tokens"] == 77
    assert "'max_completion_tokens' is sent instead" in completion.notes[0]


def test_configured_fields_pass_through_and_are_never_dropped(server):
    b = backend(server, extra_body={"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}},
                reasoning_effort="low")
    complete(b)
    body = server.requests[-1]["body"]
    assert body["top_k"] == 20 and body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["reasoning_effort"] == "low"
    server.set_responder("m", rejecting("reasoning_effort",
                                        "Unrecognized request argument supplied: reasoning_effort"))
    with pytest.raises(LLMError) as caught:
        complete(b)
    assert caught.value.kind == "bad_request" and "reasoning_effort" in str(caught.value)


def test_extra_fields_come_from_the_model_args_and_are_checked(server, tmp_path: Path):
    model = ModelConfig(name="m", base_url=server.base_url, args={"reasoning_effort": "high"})
    built = build_backend(LLMConfig(models=[model]), seed=0)
    complete(built)
    assert server.requests[-1]["body"]["reasoning_effort"] == "high"
    offline = ModelConfig(name="o", provider="offline", args={"extra_body": {"x": 1}})
    with pytest.raises(UserError) as caught:
        build_backend(LLMConfig(models=[offline]), seed=0)
    assert caught.value.where == "llm.models[0].args.extra_body"


def test_reasoning_content_is_kept_apart_from_the_answer(server):
    server.enqueue(Reply.ok("<think>draft</think>\nthe edit", reasoning="long thoughts"))
    completion = complete(backend(server))
    assert completion.reasoning == "long thoughts"
    assert completion.text == "<think>draft</think>\nthe edit"  # stored as it came
    assert answer_body(completion.text) == "the edit"  # parsed without the thinking


def test_an_html_error_page_is_summarised(server):
    page = "<html><head><title>503 Service Unavailable</title></head><body>" + "x" * 9000
    server.enqueue(Reply.html(503, page + "</body></html>"))
    with pytest.raises(LLMError) as caught:
        complete(backend(server))
    assert caught.value.kind == "server"
    assert str(caught.value) == "server: model m: HTTP 503 (text/html): 503 Service Unavailable"


def test_error_summaries() -> None:
    assert summarise_response(502, "text/html", "<!doctype html><body>\n<p>Bad\ngateway</p>") == (
        "HTTP 502 (text/html): Bad")
    assert summarise_response(400, "application/json", {"error": {"message": "no\nsecond"}}) == (
        "HTTP 400 (application/json): no")
    assert summarise_response(500, "", "") == "HTTP 500: empty body"
    assert len(summarise_text("y" * 10_000)) == 200


def test_reasoning_blocks_are_split_off() -> None:
    assert split_reasoning("<think>a</think>\nX") == ("<think>a</think>", "X")
    assert split_reasoning("opened by the template\n</think>\nX") == ("opened by the template", "X")
    assert split_reasoning("<think>cut while thinking") == ("<think>cut while thinking", "")
    kept = "```python\nprint('</think>')\n```"
    assert answer_body(kept) == kept  # code that mentions the tag is not reasoning


def test_secrets_never_enter_a_transcript() -> None:
    environ = {"MY_LLM": "plainvalue123", "SERVICE_TOKEN": "tok-0123456789", "HOME": "/home/me"}
    model = ModelConfig(name="m", api_key_env="MY_LLM")
    policy = TranscriptPolicy(LLMConfig(models=[model]), environ)
    kept = policy.capture(
        [{"role": "user", "content": "key plainvalue123, token tok-0123456789, home /home/me"}],
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz and sk-ant-api03-abcdefghijklmnopqrstu",
    )
    assert kept is not None
    assert kept.messages[0]["content"] == (
        "key [redacted MY_LLM], token [redacted SERVICE_TOKEN], home /home/me")
    assert "abcdefghijklmnop" not in kept.answer and kept.answer.count("[redacted]") == 2
    assert Redactor({"SHORT_KEY": "abc"})("abc") == "abc"  # too short to hide
    off_config = LLMConfig()
    off_config.transcripts.enabled = False
    off = TranscriptPolicy(off_config, environ)
    assert off.capture([{"role": "user", "content": "x"}], "y") is None


def test_transcripts_are_capped_per_text() -> None:
    cfg = LLMConfig()
    cfg.transcripts.max_chars = 1000
    kept = TranscriptPolicy(cfg, {}).capture([{"role": "user", "content": "a" * 5000 + "END"}], "b")
    assert kept is not None
    text = kept.messages[0]["content"]
    assert len(text) < 1200 and text.endswith("END") and "characters not kept" in text


# ---------------------------------------------------------------- LiteLLM, real code path


def litellm_backend(model: ModelConfig) -> Any:
    from evolve.llm.litellm_backend import LiteLLMBackend

    return LiteLLMBackend(model, LLMConfig(models=[model], retries=0), rng=random.Random(0))


@needs_litellm
def test_litellm_anthropic_provider_drops_seed_and_keeps_thinking(server, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    root = server.base_url.removesuffix("/v1")  # LiteLLM appends /v1/messages
    model = ModelConfig(name="anthropic/claude-sonnet-4", provider="litellm", base_url=root,
                        api_key_env="ANTHROPIC_API_KEY")
    b = litellm_backend(model)
    server.enqueue(Reply.ok("the edit", reasoning="thinking it over"),
                   Reply.truncated("cut"))
    first = complete(b, seed=3, max_tokens=100)
    second = complete(b, seed=4, max_tokens=100)
    request = server.requests[0]
    assert request["path"] == "/v1/messages" and request["body"]["model"] == "claude-sonnet-4"
    assert "seed" not in request["body"] and request["body"]["max_tokens"] == 100
    assert request["body"]["system"][0]["text"] == "be brief"  # Anthropic's own request shape
    assert first.text == "the edit" and first.reasoning == "thinking it over"
    assert first.notes == ["model anthropic/claude-sonnet-4: anthropic does not take 'seed'; "
                           "it is not sent"]
    assert second.finish_reason == "length" and second.notes == []
    assert first.prompt_tokens > 0 and first.cost_usd > 0  # LiteLLM's price map


@needs_litellm
def test_litellm_anthropic_errors_are_summarised(server):
    root = server.base_url.removesuffix("/v1")
    b = litellm_backend(ModelConfig(name="anthropic/claude-sonnet-4", provider="litellm",
                                    base_url=root, api_key_env="ANTHROPIC_API_KEY"))
    server.enqueue(Reply.html(502, "<html><head><title>502 Bad Gateway</title></head>"
                                   "<body>" + "<p>nginx</p>" * 300 + "</body></html>"))
    with pytest.raises(LLMError) as caught:
        complete(b)
    assert caught.value.kind == "server" and "502 Bad Gateway" in str(caught.value)
    assert "<" not in str(caught.value) and len(str(caught.value)) < 300


@needs_litellm
def test_litellm_learns_a_rejected_parameter(server):
    server.set_responder("fake", rejecting("seed", "Unrecognized request argument supplied: seed"))
    b = litellm_backend(ModelConfig(name="openai/fake", provider="litellm",
                                    base_url=server.base_url))
    completion = complete(b, seed=1)
    complete(b, seed=2)
    assert [("seed" in r["body"]) for r in server.requests] == [True, False, False]
    assert "rejected 'seed'" in completion.notes[0]


@needs_litellm
@pytest.mark.parametrize("name,variable", [("gemini/gemini-2.5-pro", "GEMINI_API_KEY"),
                                           ("deepseek/deepseek-chat", "DEEPSEEK_API_KEY"),
                                           ("anthropic/claude-sonnet-4", "ANTHROPIC_API_KEY")])
def test_litellm_provider_keys_are_checked_up_front(monkeypatch, name, variable):
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(UserError) as caught:
        build_backend(LLMConfig(models=[ModelConfig(name=name, provider="litellm")]), seed=0)
    assert variable in caught.value.message and caught.value.where == "llm.models[0].api_key_env"


@needs_litellm
def test_the_readme_litellm_model_runs_the_loop_against_a_local_endpoint(server, tmp_path,
                                                                         monkeypatch):
    """README: ``{name: anthropic/claude-sonnet-4, provider: litellm, api_key_env:
    ANTHROPIC_API_KEY}``, pointed at a local Messages API with ``base_url``."""
    import re

    from evolve.controller import Controller
    from evolve.problem import load_problem
    from evolve.runs import create_run

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdefghij")

    def tune(body: dict[str, Any]) -> Reply:
        text = "".join(block.get("text", "") for block in body["messages"][-1]["content"])
        line = re.search(r"^ *inner_radius = .*$", text, re.MULTILINE)
        assert line and "seed" not in body
        return Reply.ok(f"<<<<<<< SEARCH\n{line.group(0)}\n=======\n    inner_radius = 0.29\n"
                        ">>>>>>> REPLACE\n", reasoning="the inner ring is too wide")

    server.set_responder("claude-sonnet-4", tune)
    root = server.base_url.removesuffix("/v1")
    problem = load_problem(Path(__file__).resolve().parent.parent / "problems" / "circle_packing",
                           overrides=[
        f"llm.models=[{{name: anthropic/claude-sonnet-4, provider: litellm, "
        f"api_key_env: ANTHROPIC_API_KEY, base_url: '{root}'}}]",
        "budget.iterations=3", "llm.concurrency=1", "evaluation.workers=1", "database.num_islands=1",
    ])
    run = create_run(problem, tmp_path / "runs", "readme-litellm")
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    assert summary.status == "finished" and not summary.failures
    calls = run.store.llm_calls(run.run_id)
    assert len(calls) == 3 and all(c.ok and c.outcome == "candidate" for c in calls)
    assert all(c.cost_usd > 0 for c in calls)  # claude-sonnet-4's price
    assert all(r["path"] == "/v1/messages" for r in server.requests)
    assert server.requests[0]["headers"]["x-api-key"] == "sk-ant-test-0123456789abcdefghij"
    notes = [e.data["note"] for e in run.store.events(run.run_id, "llm_note")]
    assert notes == ["model anthropic/claude-sonnet-4: anthropic does not take 'seed'; "
                     "it is not sent"]
    kept = run.store.transcript(calls[0].id)
    assert kept is not None and kept.reasoning == "the inner ring is too wide"
    assert "sk-ant-test" not in str(kept)
