"""The meta-scratchpad: statistics, LLM summaries, prompts, resume and `evolve show`."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from support_fake_openai import FakeOpenAIServer, Reply
from support_search import (
    FAKE_LLM,
    RecordingBackend,
    fake_models,
    run_problem,
    set_value_edit,
    user_prompt,
    vector_problem,
)

from evolve.config import ScratchpadConfig
from evolve.database.records import ProgramRecord
from evolve.llm.offline import OfflineMutationEngine
from evolve.report.show import show_program
from evolve.report.source import load_run
from evolve.search.scratchpad import ScratchpadBuilder, change_kinds, parse_llm_scratchpad

PARENT = "def f():\n    x = 1.5\n    y = x + 2\n    return y\n"


def test_change_kinds_describe_what_changed_and_where() -> None:
    assert change_kinds(PARENT, PARENT.replace("1.5", "1.7")) == ["tuning the constant `x` in f()"]
    assert change_kinds(PARENT, PARENT.replace("x + 2", "x - 2")) == ["changing an operator in f()"]
    assert change_kinds(PARENT, PARENT.replace("    return y\n", "    y += 1\n    return y\n")) == [
        "adding statements in f()"]


def _program(pid: str, code: str, score: float | None) -> ProgramRecord:
    return ProgramRecord(id=pid, run_id="r", code=code, valid=score is not None, score=score, origin="llm",
                         reason="" if score is not None else "values() failed: boom")


def test_statistics_recommend_what_worked_and_warn_about_failures() -> None:
    builder = ScratchpadBuilder(ScratchpadConfig(enabled=True, every=4, recommendations=3))
    parent = _program("p", PARENT, 1.0)
    for i in range(3):
        builder.observe(parent, _program(f"c{i}", PARENT.replace("1.5", f"1.{6 + i}"), 1.0 + i))
    for i in range(2):
        builder.observe(parent, _program(f"d{i}", PARENT.replace("x + 2", "x * 2"), None))
    assert builder.due()
    note = builder.statistics()
    assert note.evaluated == 5 and note.source == "statistics"
    assert "tuning the constant `x` in f(): 3 tries, 2 improved" in note.text
    assert note.recommendations[0].startswith("Keep exploring tuning the constant `x` in f()")
    assert any(r.startswith("Avoid changing an operator") for r in note.recommendations)
    assert builder.statistics() == note  # deterministic
    assert note.recommendation(0) != note.recommendation(1)


def test_llm_answers_are_split_into_notes_and_recommendations() -> None:
    cfg = ScratchpadConfig(recommendations=2)
    note = parse_llm_scratchpad("SCRATCHPAD:\nTuning a helped.\nRECOMMENDATIONS:\n- raise a\n- try b\n- c", 7, cfg)
    assert note.text == "Tuning a helped." and note.recommendations == ["raise a", "try b"]
    loose = parse_llm_scratchpad("Notes here.\n1. do x\n2) do y", 7, cfg)
    assert loose.text == "Notes here." and loose.recommendations == ["do x", "do y"]


def test_offline_loop_writes_scratchpads_into_prompts_run_and_show(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    backend = RecordingBackend(OfflineMutationEngine(seed=0))
    overrides = ["budget.iterations=24", "evaluation.workers=1", "llm.concurrency=1", "database.num_islands=1",
                 "search.scratchpad.enabled=true", "search.scratchpad.every=6"]
    run, summary = run_problem(folder, tmp_path, overrides, backend=backend)
    pads = run.store.events(run.run_id, "scratchpad")
    assert 3 <= len(pads) <= 4 and all(p.data["source"] == "statistics" for p in pads)
    assert pads[0].data["evaluated"] >= 6 and pads[-1].data["recommendations"]
    shown_notes = [_recommendation(messages[-1]["content"]) for messages in backend.messages]
    with_notes = [note for note in shown_notes if note]
    assert with_notes and len(with_notes) >= 24 - 8
    assert with_notes[-1] in {r for pad in pads for r in pad.data["recommendations"]}
    assert shown_notes[0] == ""  # nothing learned yet
    # `evolve show` prints the run's latest scratchpad.
    buffer = io.StringIO()
    with load_run(run.run_dir) as handle:
        show_program(Console(file=buffer, width=200), handle, summary.best, code=False)
    shown = buffer.getvalue()
    assert "scratchpad" in shown and pads[-1].data["recommendations"][0][:40] in shown
    # Resume continues the schedule from the stored scratchpad instead of writing one at once.
    run_problem(folder, tmp_path, overrides, run=run, extra_iterations=3)
    assert len(run.store.events(run.run_id, "scratchpad")) == len(pads)


def _recommendation(prompt: str) -> str:
    found = re.search(r"^Recommendation: (.*)$", prompt, re.MULTILINE)
    return found.group(1) if found else ""


def test_llm_summarizer_through_the_loop(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    summaries: list[str] = []

    def respond(body: dict[str, Any]) -> Reply:
        prompt = user_prompt(body)
        if "RECOMMENDATIONS:" in prompt:
            summaries.append(prompt)
            return Reply.ok("SCRATCHPAD:\nRaising a helped.\nRECOMMENDATIONS:\n- Move b toward 0.1\n")
        return Reply.ok(set_value_edit(body, "a", round(0.5 + 0.02 * len(body["messages"][-1]["content"]) % 0.4, 3)))

    with FakeOpenAIServer() as server:
        server.set_responder("small", respond)
        overrides = FAKE_LLM + [fake_models(server), "budget.iterations=10", "database.num_islands=1",
                                "search.scratchpad.enabled=true", "search.scratchpad.every=4"]
        run, _ = run_problem(folder, tmp_path, overrides)
        prompts = [user_prompt(r["body"]) for r in server.requests]
    assert summaries and "Statistics of the most recent children" in summaries[0]
    pads = run.store.events(run.run_id, "scratchpad")
    assert pads and pads[0].data["source"] == "llm" and pads[0].data["recommendations"] == ["Move b toward 0.1"]
    assert any("Recommendation: Move b toward 0.1" in p for p in prompts)
    counters = run.store.counters(run.run_id)
    assert counters.llm_calls == len(run.store.llm_calls(run.run_id)) == 10 + len(summaries)
    assert counters.iterations == 10
