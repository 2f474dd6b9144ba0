"""Attacks on the shipped evaluators, each as a candidate file run through `evolve eval`.

Each ends invalid with a specific reason or scores no better than the honest program it
was built from (docs/security.md, "What an evaluation guarantees").
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
ATTACKS = REPO / "tests" / "trust_candidates"
EPLB = REPO / "problems" / "eplb"
FIXTURE = "evaluator_args.workloads=data/synthetic_seed0_windows.npz"


def evaluate(problem: Path, candidate: Path, *sets: str, timeout: float = 300) -> dict[str, Any]:
    command = [sys.executable, "-m", "evolve.cli", "eval", str(problem), str(candidate), "--json"]
    for item in sets:
        command += ["--set", item]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def attack_on_baseline(tmp_path: Path, tail: str) -> Path:
    """The honest EPLB baseline with an attack appended (it wraps rebalance_experts)."""
    path = tmp_path / tail.replace(".tail", ".py")
    path.write_text((EPLB / "initial_program.py").read_text() + (ATTACKS / tail).read_text())
    return path


@pytest.fixture(scope="module")
def honest_eplb() -> dict[str, Any]:
    return evaluate(EPLB, EPLB / "initial_program.py")


def test_eplb_reading_the_future_gains_nothing(tmp_path: Path, honest_eplb: dict) -> None:
    """Attack 1: find the handed window in workload files (or regenerate it from public
    code and seeds) and plan for the next one. The windows are secret and the files out
    of sight, so the attack plans on what it was given: the honest score, to the bit."""
    result = evaluate(EPLB, attack_on_baseline(tmp_path, "eplb_reads_future.tail"))
    assert result["valid"], result["reason"]
    assert result["metrics"]["balance"] == honest_eplb["metrics"]["balance"]
    assert result["holdout"]["mean"] == honest_eplb["holdout"]["mean"]
    assert result["score"] <= honest_eplb["score"] + 0.005 * honest_eplb["metrics"]["balance"]


def test_eplb_reading_the_future_in_fixture_mode_finds_no_file(tmp_path: Path) -> None:
    """The public fixture is on disk, but not in the candidate's file view."""
    honest = evaluate(EPLB, EPLB / "initial_program.py", FIXTURE)
    result = evaluate(EPLB, attack_on_baseline(tmp_path, "eplb_reads_future.tail"), FIXTURE)
    assert result["valid"], result["reason"]
    assert result["metrics"]["balance"] == honest["metrics"]["balance"]
    assert result["metrics"]["public_workloads"] == 1.0


def test_eplb_skipping_timed_calls_is_invalid(tmp_path: Path) -> None:
    """Attack 2: return nothing from calls that look like timing calls. Every timed call
    is checked against a fresh process's answer for its window."""
    result = evaluate(EPLB, attack_on_baseline(tmp_path, "eplb_skips_timed_calls.tail"))
    assert not result["valid"]
    assert "different placement than in a fresh process" in result["reason"]
    assert result["score"] == 0.0


def test_eplb_combined_attack_is_invalid(tmp_path: Path) -> None:
    combined = tmp_path / "combined.py"
    combined.write_text(attack_on_baseline(tmp_path, "eplb_reads_future.tail").read_text()
                        + (ATTACKS / "eplb_skips_timed_calls.tail").read_text())
    result = evaluate(EPLB, combined)
    assert not result["valid"] and result["score"] == 0.0


def test_eplb_same_program_scores_the_same_within_the_stated_tolerance(
        honest_eplb: dict) -> None:
    """docs/problems/eplb.md: at most one speed step apart, i.e. speed_weight x speed_step
    x balance (0.005 x balance with the defaults)."""
    scores = [honest_eplb["score"]] + [
        evaluate(EPLB, EPLB / "initial_program.py")["score"] for _ in range(2)]
    tolerance = 0.1 * 0.05 * honest_eplb["metrics"]["balance"]
    assert max(scores) - min(scores) <= tolerance + 1e-12, scores


@pytest.mark.parametrize("problem", ["circle_packing", "cloud_transfer"])
def test_result_pipe_bomb_fails_the_candidate_not_the_trusted_side(problem: str) -> None:
    """Attack 4: a few hundred bytes that unpickle into 2**60 shared leaves. The bytes are
    refused before anything is built; the evaluation ends at once."""
    result = evaluate(REPO / "problems" / problem, ATTACKS / "result_pipe_bomb.py", timeout=120)
    assert not result["valid"]
    assert "refused pickle opcode" in result["reason"], result["reason"]


def test_the_run_database_is_out_of_reach(tmp_path: Path) -> None:
    """Attack 5: read the run's database (and list the runs folder) from the sandbox."""
    database = tmp_path / "runs" / "circle_packing-1" / "evolve.db"
    database.parent.mkdir(parents=True)
    with sqlite3.connect(database) as db:
        db.execute("create table programs (id text, code text, score real)")
        db.execute("insert into programs values ('p1', 'secret code', 0.99)")
    database.chmod(0o644)  # readable by anyone: the file view, not the mode, keeps it out
    candidate = tmp_path / "thief.py"
    candidate.write_text((ATTACKS / "reads_run_database.tmpl").read_text()
                         .replace("@DATABASE@", str(database)))
    result = evaluate(REPO / "problems" / "circle_packing", candidate)
    assert not result["valid"]
    assert "FileNotFoundError" in result["reason"], result["reason"]
    assert "SQLite" not in json.dumps(result) and "secret code" not in json.dumps(result)
