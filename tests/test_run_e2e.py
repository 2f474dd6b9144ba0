"""End to end through the CLI: a real run with the offline engine, then resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evolve.runs import open_run

REPO = Path(__file__).resolve().parent.parent


def evolve(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


@pytest.mark.slow
def test_circle_packing_run_improves_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = evolve("run", "problems/circle_packing", "--iterations", "50", "--out", str(out), "--name", "cp")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "offline mutation engine" in proc.stdout
    assert "evolve run summary" in proc.stdout
    run = open_run(out / "cp")
    programs = list(run.store.programs(run.run_id))
    evaluated = [p for p in programs if p.origin == "llm"]
    counters = run.store.counters(run.run_id)
    assert counters.iterations == 50
    assert len(evaluated) >= 45  # a few edits may fail to apply and are not evaluated
    initial = max(p.score for p in programs if p.origin == "initial" and p.valid)
    best = run.store.best_program(run.run_id)
    assert best is not None and best.score > initial
    assert (out / "cp" / "best_program.py").read_text() == best.code
    # every child lands on its parent's island (migrants are copies placed on purpose)
    by_id = {p.id: p for p in programs}
    for child in evaluated:
        assert by_id[child.parent_id].island == child.island

    proc = evolve("resume", str(out / "cp"), "--iterations", "10")
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = run.store.counters(run.run_id)
    assert after.iterations == 60
    ids = [p.id for p in run.store.programs(run.run_id)]
    assert len(ids) == len(set(ids))
    assert set(by_id) <= set(ids)


def test_eval_json_contract(tmp_path: Path) -> None:
    proc = evolve("eval", "problems/circle_packing", "problems/circle_packing/initial_program.py", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert data["valid"] is True and data["reason"] == ""
    assert isinstance(data["score"], float) and 0.3 < data["score"] < 1.0
    assert data["metrics"]["sum_radii"] == pytest.approx(data["score"] * 2.6359)


def test_eval_rejects_overlapping_packing(tmp_path: Path) -> None:
    cand = tmp_path / "cheat.py"
    cand.write_text(
        "import numpy as np\n# EVOLVE-BLOCK-START\n"
        "def run_packing():\n    c = np.full((26, 2), 0.5)\n    r = np.full(26, 0.5)\n    return c, r, 13.0\n"
        "# EVOLVE-BLOCK-END\n"
    )
    proc = evolve("eval", "problems/circle_packing", str(cand), "--json")
    data = json.loads(proc.stdout)
    assert data["valid"] is False and "overlap" in data["reason"]


def test_problems_lists_shipped_problems() -> None:
    proc = evolve("problems")
    assert proc.returncode == 0
    for name in ("circle_packing", "eplb", "cloud_transfer"):
        assert name in proc.stdout


def test_eval_applies_the_evaluators_memory_limit(tmp_path: Path) -> None:
    hog = tmp_path / "hog.py"
    hog.write_text(
        "import numpy as np\n# EVOLVE-BLOCK-START\ndef run_packing():\n"
        "    big = np.ones((2048, 1024, 1024), dtype=np.uint8)\n    return big, big\n# EVOLVE-BLOCK-END\n"
    )
    proc = evolve("eval", "problems/circle_packing", str(hog), "--json",
                  "--set", "evaluator_args.memory_mb=600")
    data = json.loads(proc.stdout)
    assert data["valid"] is False and "600 MB" in data["reason"] and "memory" in data["reason"]
