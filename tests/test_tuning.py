"""Autotuning through its real interfaces: ``evolve tune``, the loop's ``search.tune``.

The problem (tests/support_tuning.py) has a known optimum: width 7.5, depth 12, mode
"fast", combined score 0.5; its holdout prefers the opposite of the train optimum.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support_evaluation import descendants
from support_tuning import BEST, BEST_SCORE, SpySampler, known_optimum_problem

from evolve.config import DatabaseConfig
from evolve.controller import Controller
from evolve.database.records import ProgramRecord
from evolve.problem import load_problem
from evolve.runs import create_run, open_run
from evolve.search.population import Population
from evolve.tuning import TuneRequest

REPO = Path(__file__).resolve().parent.parent


def evolve(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], cwd=REPO, text=True,
                          capture_output=True, timeout=timeout, check=False)


def stored(run_dir: Path) -> list[ProgramRecord]:
    run = open_run(run_dir)
    try:
        return list(run.store.programs(run.run_id))
    finally:
        run.close()


def test_a_tuning_run_finds_the_known_optimum(tmp_path: Path) -> None:
    """Tolerance: within 0.02 of the best score, width within 10 %, depth within 1, the
    right mode. The study is seeded by the run seed and the tuned code, so with one worker
    it is the same on every machine; TPE meets the tolerance in 40 trials for run seeds 0-3
    (seed 4 ends at 0.474, width 13 % off), this test uses seed 0."""
    folder = known_optimum_problem(tmp_path)
    # One worker: the sampler is told each trial before it asks for the next, so the
    # study is the same on any machine, however loaded (two workers finish in any order).
    out = evolve("tune", str(folder), str(folder / "initial_program.py"), "--trials", "40",
                 "--out", str(tmp_path / "runs"), "--name", "tuned",
                 "--set", "evaluation.workers=1")
    assert out.returncode == 0, out.stderr
    assert "study of" in out.stdout and "40 trials stored" in out.stdout
    programs = stored(tmp_path / "runs" / "tuned")
    trials = [p for p in programs if p.origin == "tune"]
    assert len(trials) == 40 and len(programs) == 41
    assert {t.parent_id for t in trials} == {programs[0].id}
    best = max(trials, key=lambda t: t.score or float("-inf"))
    params = best.metadata["tune"]["params"]
    assert best.score is not None and best.score >= BEST_SCORE - 0.02
    assert abs(params["width"] / BEST["width"] - 1) <= 0.10
    assert abs(params["depth"] - BEST["depth"]) <= 1 and params["mode"] == BEST["mode"]
    # the values in the metadata are the ones in the trial's code
    assert f"width = {params['width']!r}" in best.code or f"width = {params['width']}" in best.code
    assert (tmp_path / "runs" / "tuned" / "best_program.py").read_text() == best.code
    # a trial is an ordinary program for the readers: show (with its literals), the report
    shown = evolve("show", str(tmp_path / "runs" / "tuned"), best.id[:12])
    assert shown.returncode == 0 and "tuned literals" in shown.stdout and "origin" in shown.stdout
    report = evolve("report", str(tmp_path / "runs" / "tuned"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "runs" / "tuned" / "report.html").is_file()


def test_the_holdout_never_reaches_the_sampler(tmp_path: Path) -> None:
    SpySampler.seen.clear()
    folder = known_optimum_problem(tmp_path)
    problem = load_problem(folder, overrides=[
        "search.tune.sampler.name=support_tuning:SpySampler", "search.tune.objectives=instances",
        f"out={tmp_path / 'runs'}"])
    run = create_run(problem)
    controller = Controller(problem, run.store, run.run_id, run.run_dir)
    asyncio.run(controller.run(tune=TuneRequest(None, 12)))
    programs = list(run.store.programs(run.run_id))
    run.close()
    trials = [p for p in programs if p.origin == "tune"]
    assert len(trials) == 12
    holdout = {v for p in programs for v in p.holdout.values()}
    train = {v for p in programs for v in p.instances.values()}
    assert holdout and min(holdout) > 900 > max(train)  # the two are told apart by size
    told = [v for values, _, _ in SpySampler.seen if values for v in values]
    assert told, "the spy saw no values"
    assert all(v < 900 for v in told), "a holdout score reached the sampler"
    attrs = [a for _, user, system in SpySampler.seen for a in (user, system)]
    assert not any("holdout" in repr(a) for a in attrs)
    for trial in trials:  # per instance, the train scores in a fixed order
        meta = trial.metadata["tune"]
        assert meta["objectives"] == ["depth", "mode", "width"]
        assert meta["values"] == [trial.instances[k] for k in meta["objectives"]]


def count_trials(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT COUNT(*) FROM programs WHERE origin = 'tune'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


def test_a_killed_tuning_run_resumes_without_repeating_stored_trials(tmp_path: Path) -> None:
    folder = known_optimum_problem(tmp_path, extra="evaluator_args: {delay_s: 0.15}\n")
    run_dir = tmp_path / "runs" / "killed"
    cmd = [sys.executable, "-m", "evolve.cli", "tune", str(folder), str(folder / "initial_program.py"),
           "--trials", "24", "--out", str(tmp_path / "runs"), "--name", "killed"]
    proc = subprocess.Popen(cmd, cwd=REPO, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while count_trials(run_dir / "evolve.db") < 6 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    tree = descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.communicate()
    for pid in tree:  # its workers go with it
        for _ in range(200):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
    before = {p.id: p for p in stored(run_dir) if p.origin == "tune"}
    assert 6 <= len(before) < 24
    out = evolve("tune", str(run_dir), "--trials", "24")
    assert out.returncode == 0, out.stderr
    programs = stored(run_dir)
    trials = [p for p in programs if p.origin == "tune"]
    assert len(trials) == 24, "a trial was repeated or lost"
    for old in before.values():  # stored trials are kept as they were, not evaluated again
        again = next(t for t in trials if t.id == old.id)
        assert (again.score, again.created_at, again.code) == (old.score, old.created_at, old.code)
    params = [tuple(sorted(t.metadata["tune"]["params"].items())) for t in trials]
    assert len(set(params)) == 24, "the resumed study proposed a stored trial again"
    assert sorted(t.metadata["tune"]["trial"] for t in trials) == list(range(1, 25))
    run = open_run(run_dir)
    assert run.store.counters(run.run_id).evaluations == 1 + 24
    run.close()
    again = evolve("tune", str(run_dir), "--trials", "24")  # the study is complete: nothing runs
    assert again.returncode == 0 and len([p for p in stored(run_dir) if p.origin == "tune"]) == 24


def loop_problem(tmp_path: Path) -> Path:
    return known_optimum_problem(tmp_path, extra=(
        "search: {tune: {enabled: true, trials: 6, share: 0.5}}\n"
        "llm: {concurrency: 1}\n"))


def test_trials_in_the_loop_count_as_evaluations_and_only_improving_ones_join_the_island(
    tmp_path: Path,
) -> None:
    problem = load_problem(loop_problem(tmp_path), overrides=[f"out={tmp_path / 'runs'}",
                                                             "budget.iterations=24"])
    run = create_run(problem)
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    programs = list(run.store.programs(run.run_id))
    counters = run.store.counters(run.run_id)
    events = run.store.events(run.run_id)
    run.close()
    trials = [p for p in programs if p.origin == "tune"]
    assert trials, "no trial ran"
    assert counters.iterations == 24 and counters.llm_calls == 24
    assert counters.evaluations == 1 + 24 + len(trials)  # trials: evaluations, not iterations
    studies = {t.parent_id for t in trials}
    started = [e.data["program"] for e in events if e.kind == "tune_started"]
    assert set(started) == studies
    by_id = {p.id: p for p in programs}
    assert all(by_id[s].origin != "tune" for s in studies)
    # the population holds a study's trials only while they improve on the best so far
    population = Population(DatabaseConfig(num_islands=1), seed=0)
    population.rebuild(programs)
    for study in studies:
        best = by_id[study].score or 0.0
        for trial in (t for t in trials if t.parent_id == study):
            improves = trial.valid and trial.score is not None and trial.score > best
            assert (trial.id in population) == improves
            best = max(best, trial.score or best) if improves else best
    assert summary.best is not None and summary.best.score == max(p.score or -9 for p in programs)


def test_the_loop_finishes_a_study_that_was_cut_short(tmp_path: Path) -> None:
    """A study with 2 of its 6 trials stored (as a killed run leaves it) is finished first
    when the loop starts on the run, from trial 3 on."""
    problem = load_problem(loop_problem(tmp_path), overrides=[f"out={tmp_path / 'runs'}"])
    run = create_run(problem)
    asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run(
        tune=TuneRequest(None, 2)))
    first = [p for p in run.store.programs(run.run_id) if p.origin == "tune"]
    run.close()
    assert len(first) == 2
    study = first[0].parent_id
    resumed = open_run(run.run_dir)
    controller = Controller(resumed.problem, resumed.store, resumed.run_id, resumed.run_dir)
    asyncio.run(controller.run(extra_iterations=12))
    later = [p for p in resumed.store.programs(resumed.run_id) if p.origin == "tune"]
    resumed.close()
    of_study = [t for t in later if t.parent_id == study]
    assert [t.metadata["tune"]["trial"] for t in of_study] == list(range(1, 7))
    assert of_study[:2] == first


def test_dry_run_prints_the_space_and_stores_nothing(tmp_path: Path) -> None:
    folder = known_optimum_problem(tmp_path)
    out = evolve("tune", str(folder), str(folder / "initial_program.py"), "--dry-run",
                 "--out", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr
    assert "3 tunable literals" in out.stdout
    for name, domain in (("width", "0.75..12 log"), ("depth", "10..160 log"), ("mode", "'fast'")):
        line = next(row for row in out.stdout.splitlines() if f" {name} " in row)
        assert domain in line
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("program", "message"),
    [
        ("# EVOLVE-BLOCK-START\ndef setting():\n    return [1, 1, 'x']\n# EVOLVE-BLOCK-END\n",
         "no tunable literals"),
        ("# EVOLVE-BLOCK-START\ndef setting():\n    w = 3.0  # tune: 9..1\n    return [w, 1, 'x']\n"
         "# EVOLVE-BLOCK-END\n", "line 3: tune range"),
    ],
)
def test_a_program_that_cannot_be_tuned_is_one_line(tmp_path: Path, program: str, message: str) -> None:
    folder = known_optimum_problem(tmp_path, program=program)
    out = evolve("tune", str(folder), str(folder / "initial_program.py"), "--out", str(tmp_path / "r"))
    assert out.returncode == 2 and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not (tmp_path / "r").exists()


def test_a_trial_is_not_tuned_again(tmp_path: Path) -> None:
    folder = known_optimum_problem(tmp_path)
    runs = tmp_path / "runs"
    assert evolve("tune", str(folder), str(folder / "initial_program.py"), "--trials", "3",
                  "--out", str(runs), "--name", "t").returncode == 0
    trial = next(p for p in stored(runs / "t") if p.origin == "tune")
    out = evolve("tune", str(runs / "t"), trial.id[:10], "--trials", "5")
    assert out.returncode == 2 and "is a tuning trial" in out.stderr
    assert len([p for p in stored(runs / "t") if p.origin == "tune"]) == 3
    # the default ("best") continues the study the best trial belongs to
    out = evolve("tune", str(runs / "t"), "--trials", "5")
    assert out.returncode == 0, out.stderr
    assert len([p for p in stored(runs / "t") if p.origin == "tune"]) == 5


def test_an_unreadable_annotation_skips_the_program_not_the_run(tmp_path: Path) -> None:
    program = ("# EVOLVE-BLOCK-START\ndef setting():\n    width = 3.0  # tune: 1..1e400\n"
               "    return [width, 40, 'slow']\n# EVOLVE-BLOCK-END\n")
    folder = known_optimum_problem(tmp_path, program=program, extra=(
        "search: {tune: {enabled: true, trials: 3}}\n"))
    problem = load_problem(folder, overrides=[f"out={tmp_path / 'runs'}", "budget.iterations=4"])
    run = create_run(problem)
    summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
    skipped = run.store.events(run.run_id, "tune_skipped")
    run.close()
    assert summary.counters.iterations == 4
    assert skipped and "line 3" in skipped[0].data["reason"] and "tune bound" in skipped[0].data["reason"]


def test_a_folder_program_is_tuned_file_by_file(tmp_path: Path) -> None:
    """The knapsack folder program: literals of its C file and of a Python module form one
    space (``path:name``); each trial is the folder with the values written into their
    own files, built and evaluated like any candidate; the context header never changes."""
    problem = REPO / "problems" / "knapsack_ctypes"
    out = tmp_path / "runs"
    seeded = evolve("run", str(problem), "--iterations", "0", "--out", str(out), "--name", "kp")
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    dry = evolve("tune", str(out / "kp"), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "fill.c:min_gain" in dry.stdout and "scoring.py:WEIGHT_EXPONENT" in dry.stdout
    done = evolve("tune", str(out / "kp"), "--trials", "4")
    assert done.returncode == 0, done.stderr[-2000:]
    programs = stored(out / "kp")
    parent = next(p for p in programs if p.origin == "initial")
    trials = [p for p in programs if p.origin == "tune"]
    assert len(trials) == 4 and all(t.parent_id == parent.id for t in trials)
    assert any(t.valid for t in trials), [t.reason for t in trials]
    for trial in trials:
        assert set(trial.files) == set(parent.files)
        assert trial.files["fill.h"] == parent.files["fill.h"]
        values = trial.metadata["tune"]["params"]
        assert set(values) == {"fill.c:min_gain", "scoring.py:WEIGHT_EXPONENT"}
        changed = {path for path in parent.files if trial.files[path] != parent.files[path]}
        assert changed <= {"fill.c", "scoring.py"}
        assert f"double min_gain = {values['fill.c:min_gain']!r};" in trial.files["fill.c"]
        assert f"WEIGHT_EXPONENT = {values['scoring.py:WEIGHT_EXPONENT']!r}" in \
            trial.files["scoring.py"]
