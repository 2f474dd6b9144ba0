"""Lessons from the ADRS study as options, checked through the real loop: staged hints,
changed-line limits, forbidden imports, failed programs as inspirations, several baselines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from support_fake_openai import FakeOpenAIServer, Reply
from support_search import (
    FAKE_LLM,
    VECTOR_PROGRAM,
    current_program,
    fake_models,
    run_problem,
    set_value_edit,
    user_prompt,
    vector_problem,
)

HINTS = """\
hints:
  - {after_iterations: 3, text: HINT-AFTER-THREE}
  - {on_stagnation: 4, text: HINT-ON-STAGNATION}
"""


def _worse(body: dict[str, Any]) -> Reply:
    return Reply.ok(set_value_edit(body, "a", 0.0))  # never improves: the run stagnates


def test_staged_hints_are_released_by_iteration_and_on_stagnation(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path, extra=HINTS)
    with FakeOpenAIServer() as server:
        server.set_responder("small", _worse)
        run_problem(folder, tmp_path, FAKE_LLM + [fake_models(server), "budget.iterations=6", "database.num_islands=1",
                                                 "llm.concurrency=1", "evaluation.workers=1"])
        prompts = [user_prompt(r["body"]) for r in server.requests]
    assert len(prompts) == 6
    assert [("HINT-AFTER-THREE" in p) for p in prompts] == [False, False, True, True, True, True]
    assert [("HINT-ON-STAGNATION" in p) for p in prompts] == [False, False, False, True, True, True]


def _big_or_forbidden(kind: str) -> Any:
    def respond(body: dict[str, Any]) -> Reply:
        line = re.search(r"^ *a = .*$", current_program(body), re.MULTILINE)
        assert line
        if kind == "big":
            new = "\n".join(f"    a{i} = {i}" for i in range(12)) + "\n" + line.group(0)
        else:
            new = "    import subprocess\n" + line.group(0)
        return Reply.ok(f"<<<<<<< SEARCH\n{line.group(0)}\n=======\n{new}\n>>>>>>> REPLACE\n")

    return respond


def test_changed_line_limit_and_forbidden_imports_stop_children_before_evaluation(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path, extra="constraints: {timeout_s: 10, max_changed_lines: 5, "
                                             "forbidden_imports: [subprocess]}\n")
    for kind, needle in (("big", "lines (limit 5)"), ("forbidden", "subprocess")):
        with FakeOpenAIServer() as server:
            server.set_responder("small", _big_or_forbidden(kind))
            run, _ = run_problem(folder, tmp_path / kind, FAKE_LLM + [fake_models(server), "budget.iterations=3",
                                                                       "database.num_islands=1"])
            prompts = [user_prompt(r["body"]) for r in server.requests]
        children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
        assert len(children) == 3
        assert all(not p.valid and p.reason.startswith("static check") and needle in p.reason for p in children)
        counters = run.store.counters(run.run_id)
        assert counters.invalid == 3 and counters.evaluations == 1  # only the baseline was evaluated
        if kind == "big":
            assert "Change at most 5 lines" in prompts[0]
        # failed programs come back as low-weight inspirations in later prompts
        assert "Recent attempts that failed" not in prompts[0]
        assert "Recent attempts that failed" in prompts[-1] and needle in prompts[-1]


def test_several_initial_programs_seed_different_islands(tmp_path: Path) -> None:
    second = VECTOR_PROGRAM.replace("a = 0.5", "a = 0.8")
    folder = vector_problem(tmp_path, programs=(VECTOR_PROGRAM, second))
    with FakeOpenAIServer() as server:
        server.set_responder("small", _worse)
        run, _ = run_problem(folder, tmp_path, FAKE_LLM + [fake_models(server), "budget.iterations=3",
                                                           "database.num_islands=3", "database.migration_interval=0"])
        parents = [current_program(r["body"]) for r in server.requests]
    initial = [p for p in run.store.programs(run.run_id) if p.origin == "initial"]
    by_island = {p.island: p for p in initial}
    assert sorted(by_island) == [0, 1, 2]
    assert by_island[0].code == VECTOR_PROGRAM and by_island[1].code == second
    assert by_island[2].code == second and by_island[2].parent_id == by_island[1].id  # copy of the best
    assert run.store.counters(run.run_id).evaluations == 2 + 3  # copies are not evaluated again
    assert {("a = 0.8" in p) for p in parents} == {True, False}  # both baselines were worked on
