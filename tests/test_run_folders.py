"""Run folders that travel, one controller per run, and clean `evolve eval` output.

Through the real CLI on circle packing with the offline engine: a copied folder is an
independent run, a moved one resumes, an older run.json with an absolute database path
still opens; a second controller on a run is refused in one line and the lock goes away
with a SIGKILLed controller; a candidate's escape sequences never reach the terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from support_hostile import assert_no_control_bytes
from support_postgres import postgres_url  # noqa: F401  (fixture)
from support_scale import fresh_postgres_database

REPO = Path(__file__).resolve().parent.parent
PROBLEM = str(REPO / "problems" / "circle_packing")
FAST = ["--set", "evaluation.workers=1"]


def evolve(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], cwd=REPO, capture_output=True,
                          timeout=600, check=False)


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "evolve.cli", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def counts(run_dir: Path) -> tuple[int, int]:
    """(iterations counter, stored programs), read without any evolve code."""
    conn = sqlite3.connect(f"file:{run_dir / 'evolve.db'}?mode=ro", uri=True, timeout=5)
    try:
        iterations = conn.execute("SELECT iterations FROM run_counters").fetchone()[0]
        programs = conn.execute("SELECT COUNT(*) FROM programs").fetchone()[0]
    finally:
        conn.close()
    return int(iterations), int(programs)


def iteration_numbers(run_dir: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{run_dir / 'evolve.db'}?mode=ro", uri=True, timeout=5)
    try:
        return [int(r[0]) for r in conn.execute("SELECT iteration FROM llm_calls")]
    finally:
        conn.close()


def one_line_error(proc: subprocess.CompletedProcess[bytes], needle: str) -> None:
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and needle in err, err


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    made = evolve("run", PROBLEM, "--iterations", "2", "--out", str(out), "--name", "base", *FAST)
    assert made.returncode == 0, made.stderr.decode()[-2000:]
    return out / "base"


def test_run_json_names_the_database_relative_to_the_folder(base_run: Path) -> None:
    meta = json.loads((base_run / "run.json").read_text())
    assert meta["database"] == "evolve.db" and "database_url" not in meta
    assert str(base_run) not in (base_run / "run.json").read_text()


@pytest.mark.slow
def test_a_copied_folder_is_an_independent_run(base_run: Path, tmp_path: Path) -> None:
    before = counts(base_run)
    copy = tmp_path / "copy"
    shutil.copytree(base_run, copy)
    resumed = evolve("resume", str(copy), "--iterations", "2")
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert counts(copy)[0] == before[0] + 2
    assert counts(base_run) == before  # the original database was not touched


@pytest.mark.slow
def test_a_moved_folder_resumes(base_run: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    shutil.copytree(base_run, first)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(first, moved)
    resumed = evolve("resume", str(moved), "--iterations", "1")
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert counts(moved)[0] == counts(base_run)[0] + 1


@pytest.mark.slow
def test_an_older_run_file_with_an_absolute_path_opens_its_own_database(base_run: Path, tmp_path: Path) -> None:
    before = counts(base_run)
    old = tmp_path / "old"
    shutil.copytree(base_run, old)
    meta = json.loads((old / "run.json").read_text())
    del meta["database"]
    meta["database_url"] = f"sqlite:///{base_run / 'evolve.db'}"  # how older versions wrote it
    (old / "run.json").write_text(json.dumps(meta))
    resumed = evolve("resume", str(old), "--iterations", "1")
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    assert counts(old)[0] == before[0] + 1 and counts(base_run) == before


def wait_for(condition: object, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():  # type: ignore[operator]
        assert proc.poll() is None, f"controller ended before {what}: {proc.stderr.read().decode()[-2000:]}"  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"no {what} within 120 s"
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_one_controller_per_run_and_the_lock_dies_with_it(base_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "locked"
    shutil.copytree(base_run, run)
    start_iterations = counts(run)[0]
    first = start("resume", str(run), "--iterations", "100000")
    try:
        wait_for(lambda: counts(run)[0] >= start_iterations + 2, first, "progress")
        for attempt in (evolve("resume", str(run), "--iterations", "5"),
                        evolve("resume", str(run))):
            one_line_error(attempt, "another controller")
            assert f"pid {first.pid}".encode() in attempt.stderr
        # the refused controller wrote nothing: the first one's work goes on
        progress = counts(run)[0]
        wait_for(lambda: counts(run)[0] > progress, first, "more progress")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        first.communicate()
    # SIGKILL released the lock: the run resumes, with no iteration number used twice
    resumed = evolve("resume", str(run), "--iterations", "2")
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    numbers = Counter(iteration_numbers(run))
    assert all(n == 1 for n in numbers.values()), numbers.most_common(3)


@pytest.mark.slow
def test_a_postgres_run_opens_only_with_the_url_on_the_command_line(
        postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = fresh_postgres_database(postgres_url, "run_folder_pg")
    made = evolve("run", PROBLEM, "--iterations", "1", "--out", str(tmp_path), "--name", "pg",
                  "--set", f"database.url={url}", *FAST)
    assert made.returncode == 0, made.stderr.decode()[-2000:]
    run = tmp_path / "pg"
    meta = json.loads((run / "run.json").read_text())
    assert "database" not in meta and meta["database_url"].startswith("postgresql")
    password = url.split("//", 1)[1].split("@", 1)[0].partition(":")[2]
    if password:  # the folder can be shared without the database's password
        assert password not in (run / "run.json").read_text()
    one_line_error(evolve("resume", str(run), "--iterations", "1"), "outside the run folder")
    one_line_error(evolve("show", str(run)), "pass --database URL")
    resumed = evolve("resume", str(run), "--iterations", "1", "--database", url)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    shown = evolve("show", str(run), "--no-code", "--database", url)
    assert shown.returncode == 0, shown.stderr.decode()[-2000:]


HOSTILE_CANDIDATE = '''import numpy as np

# EVOLVE-BLOCK-START
def construct_packing():
    raise ValueError("title\\x1b]0;pwned-title\\x07 clip\\x1b]52;c;ZXZpbA==\\x07 clear\\x1b[2J\\x1b[H"
                     " nul\\x00 csi\\x9b31m [reverse blink]x[/] [/]")
# EVOLVE-BLOCK-END


def run_packing():
    return construct_packing()
'''


@pytest.mark.parametrize("json_output", [False, True])
def test_eval_shows_no_control_characters_from_the_candidate(tmp_path: Path, json_output: bool) -> None:
    candidate = tmp_path / "candidate.py"
    candidate.write_text(HOSTILE_CANDIDATE)
    proc = evolve("eval", PROBLEM, str(candidate), *(["--json"] if json_output else []))
    assert proc.returncode == 0, proc.stderr.decode()
    assert_no_control_bytes(proc.stdout + proc.stderr, "evolve eval")
    if json_output:
        result = json.loads(proc.stdout)
        text = json.dumps(result, ensure_ascii=False)
        assert not any(ch in text for ch in "\x1b\x07\x00\x9b")  # none, even once decoded
        assert "title" in result["reason"] and "clear" in result["reason"]
    else:
        out = proc.stdout.decode()
        assert "invalid" in out and "ValueError" in out
        assert "[reverse blink]x[/] [/]" in out  # printed as typed, not read as markup


def test_a_run_folder_named_by_a_relative_path_opens_its_own_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evolve.run_folder import database_url

    folder = tmp_path / "runs" / "cp"
    folder.mkdir(parents=True)
    (folder / "evolve.db").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    for meta in ({"database": "evolve.db"}, {"database_url": "sqlite:///evolve.db"}):
        assert database_url(Path("runs/cp"), meta) == f"sqlite:///{folder / 'evolve.db'}"
