"""Adaptive exploration (explore/exploit templates and temperatures) and retry-once of failed edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support_fake_openai import FakeOpenAIServer, Reply
from support_search import (
    FAKE_LLM,
    current_program,
    fake_models,
    run_problem,
    set_value_edit,
    user_prompt,
    vector_problem,
)

from evolve.config import ExplorationConfig
from evolve.search.exploration import choose_strategy

STALLED = "Progress has stalled"
CLIMBING = "The score has just improved"


def test_strategy_follows_progress() -> None:
    cfg = ExplorationConfig(enabled=True, stall_iterations=10, climb_window=3,
                            explore_temperature=1.2, exploit_temperature=0.3)
    assert choose_strategy(cfg, 12, 10, 0.7).name == "exploit"
    assert choose_strategy(cfg, 12, 10, 0.7).temperature == 0.3
    assert choose_strategy(cfg, 16, 10, 0.7).name == ""
    assert choose_strategy(cfg, 20, 10, 0.7).temperature == 1.2
    assert choose_strategy(cfg, 5, 0, 0.7).name == ""  # nothing improved yet, not yet stalled
    assert choose_strategy(ExplorationConfig(), 99, 0, 0.7).name == ""


def test_explore_when_stalled_and_exploit_while_climbing(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    calls = {"n": 0}

    def respond(body: dict[str, Any]) -> Reply:
        calls["n"] += 1
        # The first 8 answers make things worse (a stall), then each answer improves `a`.
        value = 0.1 if calls["n"] <= 8 else round(0.5 + 0.02 * (calls["n"] - 8), 3)
        return Reply.ok(set_value_edit(body, "a", min(value, 0.9)))

    with FakeOpenAIServer() as server:
        server.set_responder("small", respond)
        overrides = FAKE_LLM + [fake_models(server), "budget.iterations=16", "database.num_islands=1",
                                "database.parent_selection=[{name: elite}]",
                                "search.exploration.enabled=true", "search.exploration.stall_iterations=4",
                                "search.exploration.climb_window=2", "search.exploration.explore_temperature=1.3",
                                "search.exploration.exploit_temperature=0.2"]
        run_problem(folder, tmp_path, overrides)
        bodies = [r["body"] for r in server.requests]
    stalled = [b for b in bodies if STALLED in user_prompt(b)]
    climbing = [b for b in bodies if CLIMBING in user_prompt(b)]
    assert stalled and climbing
    assert {b["temperature"] for b in stalled} == {1.3}
    assert {b["temperature"] for b in climbing} == {0.2}
    assert bodies.index(stalled[0]) < bodies.index(climbing[0])
    assert all(STALLED not in user_prompt(b) and CLIMBING not in user_prompt(b) for b in bodies[:3])


def _bad_every_other() -> Any:
    calls = {"n": 0}

    def respond(body: dict[str, Any]) -> Reply:
        calls["n"] += 1
        if "could not be used" not in user_prompt(body):
            return Reply.ok("<<<<<<< SEARCH\nthis line is not in the program\n=======\nx = 1\n>>>>>>> REPLACE\n")
        return Reply.ok(set_value_edit(body, "b", round(0.1 + 0.01 * calls["n"], 3)))

    return respond


def test_retry_failed_edit_asks_again_at_once_for_the_same_parent(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    with FakeOpenAIServer() as server:
        server.set_responder("small", _bad_every_other())
        overrides = FAKE_LLM + [fake_models(server), "budget.iterations=5", "database.num_islands=1",
                                "search.retry_failed_edit=true"]
        run, _ = run_problem(folder, tmp_path, overrides)
        bodies = [r["body"] for r in server.requests]
    fixes = [b for b in bodies if "could not be used" in user_prompt(b)]
    assert len(fixes) == 5 and all("did not match" in user_prompt(b) for b in fixes)
    # the fix prompt shows the same parent as the failed request right before it
    for fix in fixes:
        before = bodies[bodies.index(fix) - 1]
        assert current_program(before) == current_program(fix)
    counters = run.store.counters(run.run_id)
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    assert counters.iterations == 5 and len(children) == 5 and all(p.valid for p in children)
    assert counters.llm_calls == len(run.store.llm_calls(run.run_id)) == 10
    # Off (the default): the failed edits are iterations without a child.
    with FakeOpenAIServer() as server:
        server.set_responder("small", _bad_every_other())
        run2, _ = run_problem(folder, tmp_path / "off", FAKE_LLM + [fake_models(server), "budget.iterations=5",
                                                                    "database.num_islands=1"])
    children = [p for p in run2.store.programs(run2.run_id) if p.origin == "llm"]
    assert len(children) < 5 and run2.store.counters(run2.run_id).llm_calls == 5
