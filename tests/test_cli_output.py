"""Command output is never wrapped or cut when it goes to a pipe or a file, whatever the
terminal width variables say; on a terminal (a pseudo-terminal made by `script`) plain
lines are left whole for the terminal to wrap.

Each command runs in a subprocess in four settings: a pipe with ``COLUMNS`` unset, a pipe
with ``COLUMNS=40``, and the same two under `script`. Escape sequences (colours, which
``FORCE_COLOR`` may switch on in CI) are removed before comparing text.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support_database import ledger_entry, make_program
from support_report import make_run

from evolve.database.store import Store

REPO = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
SETTINGS = ["pipe", "pipe-40", "pty", "pty-40"]
LONG_NAME = "a-run-name-that-no-forty-column-terminal-could-hold-" + "x" * 30
# A code line far wider than any terminal, with spaces where a wrapper would break it.
LONG_LINE = "    plan = place_hierarchical(" + ", ".join(f"weight_{i}" for i in range(30)) + ")"


def evolve(setting: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if setting.endswith("-40"):
        env["COLUMNS"] = "40"
    command = [sys.executable, "-m", "evolve.cli", *args]
    if setting.startswith("pty"):
        if shutil.which("script") is None:
            pytest.skip("`script` (util-linux) is not installed")
        command = ["script", "-qec", shlex.join(command), "/dev/null"]
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    proc.stdout = ANSI.sub("", proc.stdout).replace("\r\n", "\n")
    return proc


def output_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line.rstrip() for line in proc.stdout.splitlines()]


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose path alone is wider than 80 columns."""
    folder = tmp_path_factory.mktemp("out") / ("a-rather-long-folder-name-" * 4) / "runs"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def diff_run(deep: Path) -> tuple[Path, str, str]:
    run = make_run(deep, "two-programs", programs=4, calls=False)
    with Store(f"sqlite:///{run / 'evolve.db'}") as store:
        run_id = store.runs()[0].id
        before = make_program(run_id, code="def f(w):\n    return w\n")
        after = make_program(run_id, code=f"def f(w):\n{LONG_LINE}\n    return plan\n",
                             parent_id=before.id)
        store.commit(ledger_entry(before))
        store.commit(ledger_entry(after))
    return run, before.id, after.id


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_message_is_one_line(setting: str, diff_run: tuple[Path, str, str]) -> None:
    run, _, _ = diff_run
    database = run / "evolve.db"
    lines = output_lines(evolve(setting, "db", "upgrade", str(database)))
    assert any(str(database) in line and re.search(r"schema version \d+\)?$", line)
               for line in lines), lines


@pytest.mark.parametrize("setting", SETTINGS)
def test_diff_keeps_whole_code_lines(setting: str, diff_run: tuple[Path, str, str]) -> None:
    run, before, after = diff_run
    lines = output_lines(evolve(setting, "diff", str(run), before, after))
    assert "+" + LONG_LINE in lines, lines
    plain = output_lines(evolve(setting, "diff", str(run), before, after, "--plain"))
    assert "+" + LONG_LINE in plain


@pytest.mark.parametrize("setting", ["pipe", "pipe-40"])
def test_piped_tables_and_code_are_not_cut(setting: str, diff_run: tuple[Path, str, str],
                                           deep: Path) -> None:
    run, _, after = diff_run
    long_name = LONG_NAME
    if not (deep / long_name).exists():
        make_run(deep, long_name, programs=6, calls=False)
    table = output_lines(evolve(setting, "leaderboard", "--runs", str(deep)))
    assert any(long_name in line for line in table), table
    assert not any("\u2026" in line for line in table), table  # no cell cut with an ellipsis
    shown = evolve(setting, "show", str(run), after).stdout
    assert LONG_LINE.strip() in shown


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["pipe", "pipe-40"])
def test_a_logged_run_keeps_each_progress_line_whole(setting: str, tmp_path: Path) -> None:
    out = tmp_path / ("runs-with-a-long-folder-name-" * 3)
    proc = evolve(setting, "run", "problems/circle_packing", "--iterations", "3", "--out",
                  str(out), "--name", "logged", "--set", "evaluation.workers=1")
    lines = output_lines(proc)  # exit code 0: the run stopped by its budget
    progress = [line for line in lines if line.startswith("iteration ")]
    assert progress, lines
    assert all(re.search(r"elapsed \d\d:\d\d:\d\d\s+ETA", line) for line in progress), progress
    assert any(line.startswith("run folder: ") and line.endswith("/logged") for line in lines)
    # The offline engine answered: no token usage, and the views say so.
    assert "offline engine: no tokens, no cost" in proc.stdout
    board = evolve(setting, "leaderboard", "--runs", str(out), "--format", "json")
    (row,) = json.loads(board.stdout)
    assert row["llm_calls"] > 0 and row["tokens"] == 0 and row["offline"] is True
