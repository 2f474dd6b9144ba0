"""Crash safety through the real CLI: SIGKILL at random points, resume, and Ctrl-C.

The controller commits every finished iteration in one transaction with the counters
budgets read, so however often it is killed, resuming must neither lose nor duplicate
an evaluated program, and must spend the iteration budget exactly once. Killing the
controller must also take its evaluation workers and sandboxes along.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from support_evaluation import alive, descendants

from evolve.runs import open_run

REPO = Path(__file__).resolve().parent.parent
BUDGET = 100  # room for 20+ kills however fast this machine iterates
KILLS = 20
ISLANDS = 4
EXIT_WAIT_S = 20.0  # how long the workers of a killed controller may take to go (generous)


def start(*args: str) -> subprocess.Popen[str]:
    """``evolve ARGS`` in its own process group, like a job started from a shell."""
    return subprocess.Popen([sys.executable, "-m", "evolve.cli", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def iterations_done(run_dir: Path) -> int | None:
    """The run's iteration counter, read without taking any lock (None: not there yet)."""
    db = run_dir / "evolve.db"
    if not (run_dir / "run.json").exists() or not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT MAX(iterations) FROM run_counters").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None or row[0] is None else int(row[0])


def wait_for_iterations(proc: subprocess.Popen[str], run_dir: Path, target: int) -> None:
    while proc.poll() is None:
        done = iterations_done(run_dir)
        if done is not None and done >= target:
            return
        time.sleep(0.005)


def assert_all_exit(pids: set[int], what: str) -> None:
    deadline = time.monotonic() + EXIT_WAIT_S
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = {p: Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:120]
            for p in pids if alive(p)}
    assert not left, f"processes outlived the {what}: {left}"


def kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the controller's process group; its workers (own sessions) must follow."""
    tree = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert_all_exit(tree, "SIGKILLed controller")
    proc.communicate()  # the pipes close once every process holding them is gone


def check_consistency(run_dir: Path, iterations: int) -> None:
    """Nothing lost or duplicated; every counter equals what the stored rows add up to."""
    run = open_run(run_dir)
    store = run.store
    programs = list(store.programs(run.run_id))
    calls = store.llm_calls(run.run_id)
    counters = store.counters(run.run_id)
    ids = [p.id for p in programs]
    assert len(ids) == len(set(ids)), "a program was stored twice"
    known = set(ids)
    assert all(p.parent_id in known for p in programs if p.parent_id is not None), "lost parent"
    baselines = [p for p in programs if p.origin == "initial" and p.parent_id is None]
    assert len(baselines) == 1, "the initial program was evaluated more than once"
    seeds = Counter(p.island for p in programs if p.origin == "initial")
    assert seeds == dict.fromkeys(range(ISLANDS), 1), f"islands seeded wrongly: {seeds}"
    children = [p for p in programs if p.origin == "llm"]
    # Every child came with exactly one LLM call in the same transaction; iterations whose
    # edit did not apply left a call without a program.
    per_child = Counter(c.program_id for c in calls if c.program_id is not None)
    assert per_child == {p.id: 1 for p in children}
    failed_edits = [c for c in calls if c.program_id is None]
    assert counters.iterations == len(children) + len(failed_edits) == iterations
    assert counters.llm_calls == len(calls)
    assert counters.prompt_tokens == sum(c.prompt_tokens for c in calls)
    assert counters.completion_tokens == sum(c.completion_tokens for c in calls)
    evaluated = baselines + [p for p in children if not p.reason.startswith("static check:")]
    assert counters.evaluations == len(evaluated)
    assert counters.valid == sum(p.valid for p in evaluated)
    assert all(p.origin in ("initial", "llm", "migration") for p in programs)


def run_args(out: Path, name: str, iterations: int) -> list[str]:
    return ["run", "problems/circle_packing", "--iterations", str(iterations), "--out", str(out),
            "--name", name, "--set", "evaluation.workers=2", "--set", f"database.num_islands={ISLANDS}",
            "--set", "database.migration_interval=3"]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkill_at_random_points_then_resume_loses_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("EVOLVE_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    out = tmp_path / "runs"
    run_dir = out / "crash"
    kills: list[str] = []
    starts = 0
    while True:
        fresh = not (run_dir / "run.json").exists()
        proc = start(*run_args(out, "crash", BUDGET)) if fresh else start("resume", str(run_dir))
        starts += 1
        if len(kills) < KILLS:
            done = iterations_done(run_dir)
            if done is None or rng.random() < 0.3:
                # Startup: creating the run folder, seeding, or reopening and rebuilding.
                delay = rng.uniform(0.0, 0.5) if not kills else rng.uniform(0.3, 1.0)
                time.sleep(delay)
                where = f"{'start' if fresh else 'resume'}+{delay:.2f}s"
            else:
                # Mid-run: a few iterations further, then at a random moment within one.
                target = min(done + rng.randint(1, 4), BUDGET - 1)
                wait_for_iterations(proc, run_dir, target)
                time.sleep(rng.uniform(0.0, 0.03))
                where = f"iteration {target}+"
            if proc.poll() is None:
                kill_group(proc)
                kills.append(where)
                continue
        stdout, stderr = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"seed {seed}: {stderr[-3000:]}"
        if iterations_done(run_dir) == BUDGET:
            break
        assert starts < 200, f"seed {seed}: no progress after {starts} starts"
    print(f"seed {seed}: {len(kills)} kills at {kills}")
    assert len(kills) >= KILLS, f"seed {seed}: the run finished after only {len(kills)} kills"
    check_consistency(run_dir, BUDGET)
    run = open_run(run_dir)
    assert run.store.get_run(run.run_id).status == "finished"
    assert run.store.events(run.run_id, "migration"), "migrations happened under the kills too"
    # The budget is spent: another resume does nothing and says so.
    proc = start("resume", str(run_dir))
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "already used its budget" in stdout, stderr
    assert run.store.counters(run.run_id).iterations == BUDGET


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ctrl_c_stops_gracefully_and_resume_continues(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    run_dir = out / "ctrlc"
    proc = start(*run_args(out, "ctrlc", 100_000))
    wait_for_iterations(proc, run_dir, 5)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    tree = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]  # interrupted, unlike a run its budget stopped
    assert "evolve run summary" in stdout and "stopped by user" in stdout
    assert "Traceback" not in stderr
    assert_all_exit(tree, "stopped controller")
    run = open_run(run_dir)
    assert run.store.get_run(run.run_id).status == "stopped"
    stopped_at = run.store.counters(run.run_id).iterations
    assert 5 <= stopped_at < 100_000
    check_consistency(run_dir, stopped_at)

    proc = start("resume", str(run_dir), "--iterations", "7")
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr[-3000:]
    assert f"resuming {run_dir} at iteration {stopped_at}" in " ".join(stdout.split())
    assert run.store.get_run(run.run_id).status == "finished"
    check_consistency(run_dir, stopped_at + 7)


def test_workers_die_with_a_killed_controller_even_mid_evaluation(tmp_path: Path) -> None:
    """A worker busy with a long evaluation must not outlive its controller (nor must its
    sandbox zygote and candidate): they would otherwise run on, unowned, until the
    candidate's timeout."""
    problem = tmp_path / "slow_problem"
    problem.mkdir()
    (problem / "problem.yaml").write_text(
        "evaluator: circle_packing\nevaluator_args: {n: 26}\ninitial_programs: [slow.py]\n"
        "preload: [numpy]\nconstraints: {timeout_s: 120}\n")
    (problem / "slow.py").write_text(
        "import time\n# EVOLVE-BLOCK-START\ndef run_packing():\n    time.sleep(600)\n"
        "# EVOLVE-BLOCK-END\n")
    out = tmp_path / "runs"
    proc = start("run", str(problem), "--iterations", "1", "--out", str(out), "--name", "slow",
                 "--set", "evaluation.workers=1")
    # Wait until the candidate runs: controller -> worker -> zygote -> fork template ->
    # child (sleeping).
    deadline = time.monotonic() + 60
    while len(descendants(proc.pid)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    time.sleep(0.3)
    tree = descendants(proc.pid)
    assert len(tree) >= 4, tree
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert_all_exit(tree, "SIGKILLed controller")
    proc.communicate()  # the pipes close once every process holding them is gone


class _Killed(Exception):
    """Stands in for SIGKILL in-process: the controller stops right after a commit."""


def test_seeding_cut_short_is_finished_on_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from evolve.controller import Controller
    from evolve.problem import load_problem
    from evolve.runs import create_run

    problem = load_problem(REPO / "problems" / "circle_packing", overrides=[
        f"database.num_islands={ISLANDS}", "budget.iterations=2", "evaluation.workers=1"])
    run = create_run(problem, tmp_path / "runs", "seed")
    commit = Controller._commit

    def commit_then_die(self: Controller, attempt):  # type: ignore[no-untyped-def]
        commit(self, attempt)
        raise _Killed  # after the baseline is stored, before any island copy

    monkeypatch.setattr(Controller, "_commit", commit_then_die)
    with pytest.raises(_Killed):
        asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    stored = list(run.store.programs(run.run_id))
    assert [p.origin for p in stored] == ["initial"] and run.store.counters(run.run_id).evaluations == 1
    monkeypatch.setattr(Controller, "_commit", commit)
    reopened = open_run(run.run_dir)
    asyncio.run(Controller(reopened.problem, reopened.store, reopened.run_id, reopened.run_dir).run())
    check_consistency(run.run_dir, 2)  # one baseline (not evaluated again), one seed per island


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_second_ctrl_c_aborts_cleanly_and_the_run_resumes(tmp_path: Path) -> None:
    """The second Ctrl-C drops the iterations in flight: exit 130, one line, no traceback,
    and the stored run stays consistent."""
    problem = tmp_path / "slow_eval"
    shutil.copytree(REPO / "problems" / "circle_packing", problem)
    program = problem / "initial_program.py"
    # Each evaluation takes a second (outside the EVOLVE-BLOCK, so every child keeps it):
    # the second Ctrl-C surely arrives while iterations are in flight.
    program.write_text(program.read_text().replace(
        "def run_packing():\n", "def run_packing():\n    import time\n    time.sleep(1.0)\n"))
    out = tmp_path / "runs"
    run_dir = out / "abort"
    proc = start("run", str(problem), "--iterations", "1000", "--out", str(out), "--name", "abort",
                 "--set", "evaluation.workers=2", "--set", f"database.num_islands={ISLANDS}")
    wait_for_iterations(proc, run_dir, 2)
    assert proc.poll() is None, proc.communicate()[1][-3000:]
    tree = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-3000:]
    assert [ln for ln in stderr.splitlines() if ln.strip()] == ["interrupted"]
    assert_all_exit(tree, "aborted controller")
    run = open_run(run_dir)
    assert run.store.get_run(run.run_id).status == "stopped"
    stopped_at = run.store.counters(run.run_id).iterations
    check_consistency(run_dir, stopped_at)
    proc = start("resume", str(run_dir), "--iterations", "2")
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr[-3000:]
    check_consistency(run_dir, stopped_at + 2)
