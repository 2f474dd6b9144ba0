"""Answers as real models give them, replayed by a fake server through the real loop.

A fenced whole program where a diff was asked, SEARCH text carrying the marker lines, a
``<think>`` preamble (with a decoy edit inside), an answer cut at max_tokens (continued
once), spacing that differs from the program, HTML error pages, a secret echoed back,
an always-garbage model: the applicable answers become candidates, the others fail
with their reason, shown in the run summary, the report and ``evolve show``.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support_fake_openai import FakeOpenAIServer, Reply

from evolve.cli import main as cli_main
from evolve.controller import Controller
from evolve.problem import load_problem
from evolve.report.html import build_report
from evolve.report.source import load_run
from evolve.runs import create_run

REPO = Path(__file__).resolve().parent.parent
CODE_BLOCK = re.compile(r"```(?:python)?\n(.*?)```", re.DOTALL)
SECRET = "sk-test-abcdefghijklmnopqrstuvwxyz0123"
BAD_GATEWAY = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title>\n<style>body{}</style>"
               "</head><body><h1>Bad Gateway</h1>" + "<p>upstream failed</p>" * 500 + "</body></html>")

Step = Callable[[dict[str, Any]], Reply]


def user_text(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):  # Anthropic content blocks
        return "".join(block.get("text", "") for block in content)
    return str(content)


def parent_code(body: dict[str, Any]) -> str:
    for message in reversed(body["messages"]):
        text = message["content"] if isinstance(message["content"], str) else ""
        if "# Current program" in text:
            match = CODE_BLOCK.search(text.split("# Current program", 1)[1])
            assert match
            return match.group(1)
    raise AssertionError("no prompt with the current program")


def radius_line(code: str) -> str:
    found = re.search(r"^ *inner_radius = .*$", code, re.MULTILINE)
    assert found, "every parent keeps its inner_radius line"
    return found.group(0)


def good_edit(body: dict[str, Any]) -> Reply:
    value = 0.25 + (len(body["messages"][-1]["content"]) % 97) / 1000
    return Reply.ok(f"<<<<<<< SEARCH\n{radius_line(parent_code(body))}\n=======\n"
                    f"    inner_radius = {value:.4f}\n>>>>>>> REPLACE\n")


def whole_program(body: dict[str, Any]) -> Reply:
    code = parent_code(body)
    new = code.replace(radius_line(code), "    inner_radius = 0.2900")
    return Reply.ok(f"Here is the full improved program.\n\n```python\n{new}```\n")


def markers_in_search(body: dict[str, Any]) -> Reply:
    return Reply.ok("<<<<<<< SEARCH\n    return radii\n# EVOLVE-BLOCK-END\n=======\n"
                    "    return radii * 1.0\n# EVOLVE-BLOCK-END\n>>>>>>> REPLACE\n")


def think_preamble(body: dict[str, Any]) -> Reply:
    decoy = "<<<<<<< SEARCH\nthis line is nowhere\n=======\nx = 1\n>>>>>>> REPLACE"
    reply = good_edit(body)
    return Reply.ok(f"<think>\nLet me draft an edit first:\n{decoy}\nNo, better the radius.\n"
                    f"</think>\n{reply.text}", reasoning="(separate reasoning field)")


def cut_answer(body: dict[str, Any]) -> Reply:
    line = radius_line(parent_code(body))
    return Reply.truncated(f"<<<<<<< SEARCH\n{line}\n=======\n    inner_radius = 0.2800")


def continuation(body: dict[str, Any]) -> Reply:
    assert body["messages"][-2]["role"] == "assistant", "the cut answer is sent back"
    assert "cut off" in body["messages"][-1]["content"]
    return Reply.ok("\n>>>>>>> REPLACE\n")


def spaced_search(body: dict[str, Any]) -> Reply:
    line = radius_line(parent_code(body)).replace(" = ", "  =  ")
    return Reply.ok(f"<<<<<<< SEARCH\n\n{line}\n=======\n    inner_radius = 0.3100\n>>>>>>> REPLACE\n")


def changes_outside(body: dict[str, Any]) -> Reply:
    code = parent_code(body).replace("float(np.sum(radii))", "float(np.sum(radii)) * 2")
    return Reply.ok(f"```python\n{code}```\n")


def garbage(_body: dict[str, Any]) -> Reply:
    return Reply.ok(f"The program looks fine to me. My key is {SECRET}.\n"
                    "Authorization: Bearer abcdefghijklmnopqrstuvwx")


class Script:
    """Request k gets step k; then good edits."""

    def __init__(self, steps: list[Step | Reply]) -> None:
        self.steps = list(steps)

    def __call__(self, body: dict[str, Any]) -> Reply:
        step = self.steps.pop(0) if self.steps else good_edit
        return step if isinstance(step, Reply) else step(body)


def run_loop(tmp_path: Path, server: FakeOpenAIServer, iterations: int, *extra: str) -> tuple[Any, Any]:
    overrides = [
        f"llm.models=[{{name: m, base_url: '{server.base_url}', price_in_per_mtok: 1.0,"
        " price_out_per_mtok: 2.0}]",
        "llm.retries=0", "llm.backoff_s=0.01", "llm.concurrency=1", f"budget.iterations={iterations}",
        "evaluation.workers=1", "database.num_islands=1", *extra,
    ]
    problem = load_problem(REPO / "problems" / "circle_packing", overrides=overrides)
    run = create_run(problem, tmp_path / "runs", "real")
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    return run, summary


def show(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "evolve.cli", "show", *args], capture_output=True,
                          text=True, check=False, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_realistic_answers_through_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVOLVE_TEST_PROVIDER_TOKEN", SECRET)
    script = Script([
        Reply.error(400, "Unrecognized request argument supplied: seed"),  # dropped, resent
        whole_program, markers_in_search, think_preamble, cut_answer, continuation,
        Reply.html(502, BAD_GATEWAY), garbage, spaced_search, changes_outside,
    ])
    with FakeOpenAIServer() as server:
        server.set_responder("m", script)
        run, summary = run_loop(tmp_path, server, 10)
        requests = [r["body"] for r in server.requests]
    assert "seed" in requests[0] and all("seed" not in body for body in requests[1:])
    # Two iterations are in flight (one asking, one evaluating): entries commit out of order.
    calls = sorted(run.store.llm_calls(run.run_id), key=lambda c: (c.iteration, c.id or 0))
    assert [c.outcome for c in calls] == [
        "candidate:whole_program", "candidate:markers_in_search", "candidate", "continued",
        "candidate", "llm_failed:server", "edit_failed:no_edit", "candidate:loose_match",
        "edit_failed:no_edit", "candidate", "candidate",
    ]
    counters = run.store.counters(run.run_id)
    assert counters.iterations == 10 and counters.llm_calls == 11  # the continuation is paid
    assert counters.usd == pytest.approx(sum(c.cost_usd for c in calls))
    assert counters.evaluations == 1 + 7
    assert summary.failures == {"edit failed: no_edit": 2, "LLM error: server": 1}
    assert set(summary.lenient) == {"whole_program", "markers_in_search", "loose_match"}
    html_error = next(c for c in calls if not c.ok)
    assert "HTTP 502 (text/html): 502 Bad Gateway" in html_error.error
    assert "<" not in html_error.error and len(html_error.error) < 300
    notes = [e.data["note"] for e in run.store.events(run.run_id, "llm_note")]
    assert len(notes) == 1 and "rejected 'seed'; it is no longer sent" in notes[0]
    assert notes[0] in summary.notes  # the closing summary says it too
    edit_errors = [e.data for e in run.store.events(run.run_id, "edit_failed")]
    assert [e["kind"] for e in edit_errors] == ["no_edit", "no_edit"]
    assert "changes code outside the EVOLVE-BLOCK" in edit_errors[1]["error"]

    # Every call kept its prompt and raw answer; the secret never reached the store.
    for call in calls:
        kept = run.store.transcript(call.id) if call.id is not None else None
        assert kept is not None and kept.messages[0]["role"] == "system"
        assert "# Current program" in kept.messages[1]["content"]
    think = run.store.transcript(calls[2].id)
    assert think is not None and "<think>" in think.answer and "this line is nowhere" in think.answer
    assert think.reasoning == "(separate reasoning field)"
    cont = run.store.transcript(calls[4].id)
    assert cont is not None and cont.messages[-2]["role"] == "assistant"
    echoed = run.store.transcript(calls[6].id)
    assert echoed is not None and "looks fine" in echoed.answer
    assert SECRET not in echoed.answer and "[redacted EVOLVE_TEST_PROVIDER_TOKEN]" in echoed.answer
    assert "abcdefghijklmnopqrstuvwx" not in echoed.answer
    with run.store.engine.connect() as conn:
        dump = b"".join(bytes(row[0]) for row in conn.exec_driver_sql("SELECT data FROM llm_transcripts"))
    assert SECRET.encode() not in dump

    # The report: failures with examples, and the lineage opens prompts and answers.
    with load_run(run.run_dir) as handle:
        page = build_report(handle)
    failures = page.split('<section id="failures">', 1)[1].split("</section>", 1)[0]
    assert "edit failed: no_edit" in failures and "LLM error: server" in failures
    assert "The program looks fine to me." in failures and 'class="transcript"' in failures
    assert "HTTP 502 (text/html): 502 Bad Gateway" in failures
    assert "<h1>Bad Gateway" not in page and "&lt;h1&gt;Bad Gateway" not in page
    assert 'id="failed-answers">3<' in page
    lineage = page.split('<section id="lineage">', 1)[1].split("</section>", 1)[0]
    assert "prompt and answer" in lineage and "# Current program" in lineage

    # evolve show: the failures listed, a failed attempt and a program opened.
    listed = show(str(run.run_dir), "--failures")
    assert "edit failed: no_edit" in listed and "LLM error: server" in listed
    assert f"{calls[6].id}" in listed
    garbage_answer = show(str(run.run_dir), "--iteration", "6", "--answer")
    assert "The program looks fine to me." in garbage_answer and SECRET not in garbage_answer
    assert "# Current program" not in garbage_answer  # --answer alone
    first_child = run.store.get_program(calls[0].program_id)
    prompt = show(str(run.run_dir), first_child.id[:12], "--prompt")
    assert "# Current program" in prompt and "[prompt: system]" in prompt
    assert "Here is the full improved program." not in prompt
    by_call = show(str(run.run_dir), "--call", str(calls[5].id))
    assert "HTTP 502" in by_call and "# Current program" in by_call


def test_a_rewrite_that_repeats_the_code_around_the_block(tmp_path: Path) -> None:
    def repeated(body: dict[str, Any]) -> Reply:
        code = parent_code(body)
        unmarked = "\n".join(x for x in code.splitlines() if "EVOLVE-BLOCK" not in x)
        new = unmarked.replace(radius_line(code), "    inner_radius = 0.2700")
        return Reply.ok(f"<think>The ring is too wide.</think>\n```python\n{new}\n```")

    with FakeOpenAIServer() as server:
        server.set_responder("m", repeated)
        run, summary = run_loop(tmp_path, server, 2, "prompt.mode=rewrite")
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    assert len(children) == 2 and all(p.valid for p in children)
    assert all(p.code.count("import numpy as np") == 1 for p in children)
    assert summary.lenient == {"repeated_outside": 2} and not summary.failures


def test_html_error_pages_stop_the_run_early_with_a_summary(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.set_responder("m", lambda body: Reply.html(502, BAD_GATEWAY))
        run, summary = run_loop(tmp_path, server, 50, "llm.stop_after_unusable=4", "llm.retries=1")
        sent = server.request_count
    assert summary.status == "failed" and run.store.get_run(run.run_id).status == "failed"
    assert summary.stop_reason.startswith("the last 4 answers produced no candidate (LLM error: "
                                          "server 4; last: iteration 4: server: model m: HTTP 502 "
                                          "(text/html): 502 Bad Gateway (after 2 attempts))")
    assert "--failures" in summary.stop_reason and "\n" not in summary.stop_reason
    assert run.store.counters(run.run_id).iterations == 4 and sent == 8
    assert summary.failures == {"LLM error: server": 4}


def test_an_always_garbage_model_stops_with_exit_code_3(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.set_responder("m", garbage)
        proc = subprocess.run(
            [sys.executable, "-m", "evolve.cli", "run", str(REPO / "problems" / "circle_packing"),
             "--out", str(tmp_path), "--name", "garbage", "--iterations", "60",
             "--set", f"llm.models=[{{name: m, base_url: '{server.base_url}'}}]",
             "--set", "llm.stop_after_unusable=6", "--set", "llm.concurrency=2",
             "--set", "evaluation.workers=1", "--set", "database.num_islands=1"],
            capture_output=True, text=True, check=False, cwd=REPO, timeout=300)
        sent = server.request_count
    assert proc.returncode == 3, proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith("error: llm.models: the last 6 answers produced no candidate "
                            "(edit failed: no_edit 6; last: iteration ")
    assert error.endswith(f"every failed answer: evolve show {tmp_path / 'garbage'} --failures")
    assert re.search(r"no candidate +[678] answers: edit failed: no_edit [678]", proc.stdout)
    assert 6 <= sent <= 8  # in-flight iterations finish; nothing more is asked
    assert "Traceback" not in proc.stderr
    assert cli_main(["show", str(tmp_path / "garbage"), "--failures"]) == 0
