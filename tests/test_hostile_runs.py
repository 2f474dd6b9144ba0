"""Browsing a run folder an attacker prepared: terminal, files, exit codes.

Payloads are planted straight into the SQLite database and into run.json
(support_hostile). Every command must print no control bytes, read no Rich markup from
stored text, survive damaged rows and runs, and open no database outside the folder.
The HTML side (Chromium DOM) is in test_hostile_report.py, the server in
test_hostile_serve.py.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support_hostile import (
    MARKUP,
    assert_no_control_bytes,
    copy_run,
    damage,
    plant_payloads,
    set_database,
)
from support_report import make_run

from evolve.cli import main
from evolve.report.html import write_report
from evolve.report.source import load_run

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plant_payloads(tmp_path_factory.mktemp("runs"))


def run_cli(capfdbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, bytes, bytes]:
    code = main(list(argv))
    out, err = capfdbinary.readouterr()
    return code, out, err


def one_line_error(code: int, err: bytes, needle: str) -> None:
    assert code == 2, err
    text = err.decode()
    assert text.startswith("error: ") and text.count("\n") == 1 and needle in text, text
    assert "Traceback" not in text


def hostile_program(run_dir: Path) -> str:
    with load_run(run_dir) as handle:
        return next(p.id for p in handle.store.programs(handle.run_id) if p.reason)


# ---------------------------------------------------------------- terminal bytes


@pytest.mark.parametrize("argv", [
    ["show", "{run}"],
    ["show", "{run}", "{bad}"],
    ["diff", "{run}", "best"],
    ["diff", "{run}", "best", "{bad}"],
    ["diff", "{run}", "best", "{bad}", "--plain"],
    ["leaderboard", "--runs", "{root}", "--all"],
    ["leaderboard", "--runs", "{root}", "--all", "--format", "json"],
    ["leaderboard", "--runs", "{root}", "--all", "--format", "csv"],
])
def test_no_control_bytes_reach_the_terminal(hostile: Path, capfdbinary: pytest.CaptureFixture[bytes],
                                             argv: list[str]) -> None:
    args = [a.format(run=hostile, root=hostile.parent, bad=hostile_program(hostile)) for a in argv]
    code, out, err = run_cli(capfdbinary, *args)
    assert code == 0, err
    assert_no_control_bytes(out + err, " ".join(argv))
    assert b"evil.example" in out or argv[0] == "diff"  # the payload is shown, as text


def test_stored_rich_markup_is_printed_as_text(hostile: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run_cli(capfdbinary, "show", str(hostile), hostile_program(hostile), "--no-code")
    assert code == 0
    assert MARKUP.encode() in out  # "[reverse blink]blink[/] [/]" as typed, nothing interpreted
    code, out, _ = run_cli(capfdbinary, "leaderboard", "--runs", str(hostile.parent), "--all")
    assert code == 0 and b"[reverse blink]" in out  # an unbalanced [/] is no MarkupError


def test_leaderboard_csv_cells_are_not_formulas(tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    run = make_run(tmp_path, "formula", programs=5)
    db = sqlite3.connect(run / "evolve.db")
    db.execute("UPDATE runs SET name = ?", ('=HYPERLINK("https://evil.example","x")',))
    db.commit()
    db.close()
    code, out, _ = run_cli(capfdbinary, "leaderboard", "--runs", str(tmp_path), "--all", "--format", "csv")
    assert code == 0
    assert b"'=HYPERLINK" in out and b",=HYPERLINK" not in out


def test_show_on_a_terminal_has_only_its_own_styles(hostile: Path) -> None:
    """Through a real pseudo-terminal, where rich writes colours: no OSC, no clear screen."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm-256color"}
    proc = subprocess.Popen([sys.executable, "-m", "evolve.cli", "show", str(hostile),
                             hostile_program(hostile)], stdin=follower, stdout=follower,
                            stderr=follower, cwd=REPO, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    out = b"".join(chunks)
    assert b"evil.example" in out and b"\x1b[" in out  # shown, with rich's colours
    for forbidden in (b"\x1b]", b"\x07", b"\x00", b"\x1b[2J", b"\x1b[H", b"\xc2\x9b"):
        assert forbidden not in out, forbidden


def test_code_only_is_exact_when_saved(hostile: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run_cli(capfdbinary, "show", str(hostile), hostile_program(hostile), "--code-only")
    assert code == 0
    with load_run(hostile) as handle:
        stored = handle.store.get_program(hostile_program(hostile)).code
    assert out.decode() == stored  # a pipe or file gets the program exactly as stored


# ---------------------------------------------------------------- damaged rows and runs


def test_damaged_rows_are_shown_as_damaged(tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    run = make_run(tmp_path / "runs", "damaged", programs=30, seed=4)
    bad = damage(run)
    code, out, err = run_cli(capfdbinary, "show", str(run), bad["alien"], "--no-code")
    assert code == 0, err
    assert b"alien" in out
    code, out, err = run_cli(capfdbinary, "show", str(run), bad["utf8"])
    assert code == 0, err
    assert "\ufffd".encode() in out and b"print(" in out
    code, out, err = run_cli(capfdbinary, "show", str(run), bad["badjson"], "--no-code")
    assert code == 0, err
    assert b"(damaged)" in out and b"not valid JSON" in out
    code, out, err = run_cli(capfdbinary, "show", str(run))  # best is the damaged-JSON program
    assert code == 0 and bad["badjson"].encode() in out, err
    code, out, err = run_cli(capfdbinary, "leaderboard", "--runs", str(tmp_path / "runs"))
    assert code == 0 and b"run \xef\xbf\xbd" in out, err  # the name's invalid byte, replaced
    code, _, err = run_cli(capfdbinary, "report", str(run), "-o", str(tmp_path / "r.html"))
    assert code == 0, err
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "(damaged)" in html and "alien" in html


def test_a_damaged_run_is_one_warning_and_the_others_are_listed(
        tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    root = tmp_path / "runs"
    make_run(root, "good", programs=10)
    broken = make_run(root, "broken", programs=10)
    db = sqlite3.connect(broken / "evolve.db")
    db.execute("DROP TABLE evaluations")
    db.commit()
    db.close()
    before = (broken / "evolve.db").read_bytes()
    code, out, err = run_cli(capfdbinary, "leaderboard", "--runs", str(root), "--all")
    assert code == 0
    assert b"good" in out and b"broken" not in out
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "no such table: evaluations" in lines[0] and "broken" in lines[0]
    code, _, err = run_cli(capfdbinary, "show", str(broken))
    one_line_error(code, err, "damaged database (no such table: evaluations)")
    assert (broken / "evolve.db").read_bytes() == before  # reading never repairs or writes


def test_a_locked_database_fails_within_a_second_with_one_line(
        hostile: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    holder = sqlite3.connect(hostile / "evolve.db", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE runs SET seed = seed")
    try:
        code, _, err = run_cli(capfdbinary, "show", str(hostile))
        one_line_error(code, err, "database is locked by another process (waited 1 s)")
        code, _, err = run_cli(capfdbinary, "leaderboard", "--runs", str(hostile.parent), "--all")
        assert code == 0 and b"locked" in err and err.count(b"\n") == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# ---------------------------------------------------------------- run.json points elsewhere


@pytest.mark.parametrize("target", ["/etc/passwd", "/nonexistent/secret.db", "{other}/evolve.db",
                                    "sqlite:///../other/evolve.db", "evolve.db/../../other/evolve.db"])
def test_run_json_cannot_point_outside_the_folder(tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes],
                                                  target: str) -> None:
    other = make_run(tmp_path, "other", programs=5)
    run = copy_run(other, tmp_path / "victim")
    (run / "evolve.db").unlink()
    url = target.format(other=other)
    set_database(run, url if "://" in url else f"sqlite:///{url}")
    code, _, err = run_cli(capfdbinary, "show", str(run))
    one_line_error(code, err, "names a database outside the run folder")
    # the same words whether or not the file exists: nothing is learnt about it
    assert b"not found" not in err and b"not an evolve database" not in err
    code, _, err = run_cli(capfdbinary, "report", str(run), "-o", str(tmp_path / "r.html"))
    one_line_error(code, err, "outside the run folder")
    # named on the command line, the same database opens
    code, _, err = run_cli(capfdbinary, "show", str(run), "--no-code", "--database",
                             f"sqlite:///{other / 'evolve.db'}")
    assert code == 0, err


def test_symlinked_database_leaving_the_folder_is_refused(
        tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    other = make_run(tmp_path, "other", programs=5)
    run = copy_run(other, tmp_path / "victim")
    (run / "evolve.db").unlink()
    (run / "evolve.db").symlink_to(other / "evolve.db")
    code, _, err = run_cli(capfdbinary, "show", str(run))
    one_line_error(code, err, "outside the run folder")


def test_a_postgres_url_in_run_json_is_never_contacted(
        tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        run = make_run(tmp_path / "runs", "pg", programs=5)
        set_database(run, f"postgresql://user:secret@127.0.0.1:{port}/evolve")
        code, _, err = run_cli(capfdbinary, "show", str(run))
        one_line_error(code, err, "outside the run folder")
        assert b"secret" not in err  # the password is never echoed
        code, _, err = run_cli(capfdbinary, "leaderboard", "--runs", str(tmp_path / "runs"), "--all")
        assert code == 0 and b"outside the run folder" in err
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert accepted == []


@pytest.mark.parametrize("content", ['{"run_id": 5, "database": "evolve.db"}', '["x"]',
                                     '{"run_id": "x", "database": "evolve.db", "pad": "' + "A" * 1_100_000 + '"}'])
def test_damaged_run_file_is_one_line(tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes],
                                      content: str) -> None:
    (tmp_path / "run.json").write_text(content)
    code, _, err = run_cli(capfdbinary, "show", str(tmp_path))
    one_line_error(code, err, "damaged run file")


# ---------------------------------------------------------------- huge strings


def test_huge_fields_make_a_bounded_report_and_terminal_view(
        tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    run = plant_payloads(tmp_path / "runs", "huge", huge=2_000_000)
    with load_run(run) as handle:
        path = write_report(handle, tmp_path / "r.html")
    html = path.read_text(encoding="utf-8")
    # five 2 MB fields, some repeated on every program: none is copied into the page
    assert html.count("Z" * 1000) < 50
    assert len(html) < 12_000_000
    code, out, err = run_cli(capfdbinary, "show", str(run), hostile_program(run), "--no-code")
    assert code == 0, err
    assert len(out) < 400_000
    code, out, err = run_cli(capfdbinary, "leaderboard", "--runs", str(tmp_path / "runs"), "--all",
                             "--format", "json")
    assert code == 0 and len(out) < 20_000
    assert json.loads(out)[0]["models"]  # model names are there, cut short

