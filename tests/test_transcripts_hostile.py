"""Prompts and answers are hostile text: markup, escape sequences and compression bombs in a
stored transcript reach neither the report's page nor the terminal as anything but text."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

from support_report import make_run

from evolve.database.ledger import Attempt, Outcome
from evolve.database.models import llm_transcripts_table
from evolve.database.records import LLMCallRecord, Transcript
from evolve.database.store import Store
from evolve.report.html import build_report
from evolve.report.source import load_run

REPO = Path(__file__).resolve().parent.parent
HOSTILE = ("</div></details><script>alert(document.cookie)</script>\x1b[31mRED\x1b[0m"
           "\x1b]8;;http://evil.example\x07link\x1b]8;;\x07 [bold]markup[/bold] \u202eevil")


def add_failed_answer(run_dir: Path) -> int:
    meta = json.loads((run_dir / "run.json").read_text())
    with Store(meta["database_url"]) as store:
        run_id = meta["run_id"]
        call = LLMCallRecord(run_id=run_id, iteration=900, model="m\x1b[2J", prompt_tokens=5,
                             completion_tokens=5, outcome="edit_failed:no_edit",
                             transcript=Transcript([{"role": "user", "content": HOSTILE}], HOSTILE,
                                                   reasoning=HOSTILE))
        entry = Attempt(run_id, 900, Outcome.EDIT_FAILED, calls=[call])
        entry.event("edit_failed", {"iteration": 900, "error": HOSTILE, "kind": "no_edit"})
        store.commit(entry)
        bomb = LLMCallRecord(run_id=run_id, iteration=901, model="m", outcome="edit_failed:no_edit")
        store.commit(Attempt(run_id, 901, Outcome.EDIT_FAILED, calls=[bomb]))
        calls = store.llm_calls(run_id)
        bomb_id = calls[-1].id
        assert bomb_id is not None
        with store.engine.begin() as conn:  # 50 MB of "a" in 50 kB: must not be inflated
            conn.execute(llm_transcripts_table.insert().values(
                call_seq=bomb_id, run_id=run_id, data=zlib.compress(b"a" * 50_000_000), chars=1))
        first = calls[-2].id
        assert first is not None
        return first


def test_hostile_transcripts_in_the_report_and_the_terminal(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, programs=12)
    call_id = add_failed_answer(run_dir)
    with load_run(run_dir) as handle:
        page = build_report(handle)
        bomb = handle.store.transcript(call_id + 1)
    assert bomb is not None and bomb.answer.startswith("(transcript larger than")
    failures = page.split('<section id="failures">', 1)[1].split("</section>", 1)[0]
    assert "<script>alert(document.cookie)" not in page
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in failures
    assert "\x1b" not in page and "\u202e" not in page
    assert failures.count("<details") == failures.count("</details>")  # nothing closed early
    proc = subprocess.run([sys.executable, "-m", "evolve.cli", "show", str(run_dir), "--call",
                           str(call_id)], capture_output=True, text=True, check=False, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    assert "RED" in proc.stdout and "[bold]markup[/bold]" in proc.stdout  # text, not markup
    assert "<script>alert(document.cookie)</script>" in proc.stdout  # plain text in a terminal
    listed = subprocess.run([sys.executable, "-m", "evolve.cli", "show", str(run_dir), "--failures"],
                            capture_output=True, text=True, check=False, cwd=REPO, timeout=120)
    assert listed.returncode == 0 and "\x1b" not in listed.stdout
    assert "edit failed: no_edit" in listed.stdout and "LLM error: timeout" in listed.stdout
