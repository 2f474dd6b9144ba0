"""Kernel problems on a machine without a GPU say once, at the start of a run and in its
summary, that timing is not scored (the evaluator's ``run_notes``); with a GPU they don't."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTE = "timing is not scored"


def cuda() -> bool:
    torch = pytest.importorskip("torch")
    return bool(torch.cuda.is_available())


@pytest.mark.slow
def test_a_kernel_run_on_cpu_says_once_that_timing_is_not_scored(tmp_path: Path) -> None:
    pytest.importorskip("triton")
    proc = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "run", "problems/kernels/vector_add",
         "--iterations", "2", "--out", str(tmp_path), "--name", "k",
         "--set", "evaluation.workers=1", "--set", "database.num_islands=1"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    if cuda():
        assert NOTE not in out
        return
    summary = out.index("evolve run summary")
    before, after = out[:summary], out[summary:]
    assert before.count(NOTE) == 1, out  # once when the first evaluation says so
    assert after.count(NOTE) == 1, out  # and once in the summary
    assert "note: no GPU" in before


def test_evaluator_sets_the_note_only_on_cpu(tmp_path: Path) -> None:
    pytest.importorskip("triton")
    from evaluators.kernelbench.evaluator import CPU_NOTE

    proc = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "eval", "problems/kernels/vector_add",
         "problems/kernels/vector_add/initial_program.py", "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    result = json.loads(proc.stdout)
    assert result["valid"]
    assert result["run_notes"] == ([] if cuda() else [CPU_NOTE])
