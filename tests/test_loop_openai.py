"""The real loop driven through the real openai client against a fake server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
import re
from pathlib import Path
from typing import Any

from support_fake_openai import FakeOpenAIServer, Reply

from evolve.controller import Controller
from evolve.problem import load_problem
from evolve.runs import create_run

REPO = Path(__file__).resolve().parent.parent
CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.S)


def parent_code(body: dict[str, Any]) -> str:
    user = body["messages"][-1]["content"]
    section = user.split("# Current program", 1)[1]
    match = CODE_BLOCK.search(section)
    assert match, "the prompt shows the parent program in a code block"
    return match.group(1)


def tuning_responder(seed: int):  # type: ignore[no-untyped-def]
    """Answers like an LLM: one SEARCH/REPLACE that nudges the inner ring radius."""
    rng = random.Random(seed)

    def respond(body: dict[str, Any]) -> Reply:
        line = re.search(r"^ *inner_radius = .*$", parent_code(body), re.M)
        assert line, "parent keeps its inner_radius line"
        new = f"    inner_radius = {rng.uniform(0.2, 0.4):.4f}"
        return Reply.ok(
            "I will tune the ring radius.\n<<<<<<< SEARCH\n"
            f"{line.group(0)}\n=======\n{new}\n>>>>>>> REPLACE\n"
        )

    return respond


def bad_then_good(seed: int):  # type: ignore[no-untyped-def]
    """First answer has a SEARCH that matches nothing; later ones are good."""
    good = tuning_responder(seed)
    calls = {"n": 0}

    def respond(body: dict[str, Any]) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return Reply.ok("<<<<<<< SEARCH\nthis line is not in the program\n=======\nx = 1\n>>>>>>> REPLACE\n")
        return good(body)

    return respond


def run_loop(tmp_path: Path, server: FakeOpenAIServer, iterations: int) -> tuple[Any, Any]:
    overrides = [
        f"llm.models=[{{name: small, base_url: '{server.base_url}', weight: 3,"
        " price_in_per_mtok: 1.0, price_out_per_mtok: 2.0},"
        f" {{name: big, base_url: '{server.base_url}', weight: 1,"
        " price_in_per_mtok: 10.0, price_out_per_mtok: 20.0}]",
        "llm.retries=1", "llm.backoff_s=0.01", "llm.concurrency=2",
        f"budget.iterations={iterations}", "evaluation.workers=1", "database.num_islands=2",
    ]
    problem = load_problem(REPO / "problems" / "circle_packing", overrides=overrides)
    run = create_run(problem, tmp_path / "runs", "fake")
    controller = Controller(problem, run.store, run.run_id, run.run_dir)
    summary = asyncio.run(controller.run())
    return run, summary


def test_ensemble_of_two_models_through_the_loop(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.set_responder("small", tuning_responder(1))
        server.set_responder("big", tuning_responder(2))
        run, summary = run_loop(tmp_path, server, iterations=16)
        used = server.models_used()
    assert set(used) == {"small", "big"}
    assert used.count("small") > used.count("big")  # weights 3:1
    calls = run.store.llm_calls(run.run_id)
    assert len(calls) == 16 and all(c.ok for c in calls)
    assert {c.model for c in calls} == {"small", "big"}
    for call in calls:
        assert call.prompt_tokens > 0 and call.completion_tokens > 0
        rate_in, rate_out = (1.0, 2.0) if call.model == "small" else (10.0, 20.0)
        expected = (call.prompt_tokens * rate_in + call.completion_tokens * rate_out) / 1e6
        assert abs(call.cost_usd - expected) < 1e-12
    counters = run.store.counters(run.run_id)
    assert counters.iterations == 16 and counters.llm_calls == 16
    assert abs(counters.usd - sum(c.cost_usd for c in calls)) < 1e-9
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    assert len(children) == 16 and {p.model for p in children} == {"small", "big"}
    assert any(p.valid for p in children)
    assert summary.best is not None


def test_failed_search_is_reported_in_the_next_prompt(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.set_responder("small", bad_then_good(3))
        server.set_responder("big", bad_then_good(4))
        run, _ = run_loop(tmp_path, server, iterations=8)
        prompts = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert any("did not match" in p for p in prompts[1:])
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    # the unmatched edits were never evaluated as unchanged clones
    assert len(children) == 8 - 2
    assert run.store.counters(run.run_id).iterations == 8
    events = run.store.events(run.run_id, "edit_failed")
    assert len(events) == 2 and "did not match" in events[0].data["error"]
