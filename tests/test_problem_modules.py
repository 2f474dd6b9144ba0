"""A problem folder's own evaluator module imports by ``module:attr`` from anywhere, with no
PYTHONPATH: in `evolve eval`, in `config validate` (the controller process) and in the
evaluation workers of `evolve run`. `evolve problems --root X` prints usable paths."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

EVALUATOR = '''
from pathlib import Path

from binpack_rules import capacity_of, check  # a neighbour module in the same folder

from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext, EvaluationResult


class BinPackEvaluator:
    def __init__(self, problem_dir: Path, items: int = 12) -> None:
        self.sizes = [(i * 7) % 10 + 1 for i in range(items)]
        self.capacity = capacity_of(problem_dir)

    def evaluate(self, candidate_path: Path, context: EvaluationContext) -> EvaluationResult:
        call = CandidateCall("pack", (self.sizes, self.capacity))
        outcome = context.sandbox.run(candidate_path, [call], SandboxLimits(timeout_s=20))
        if not outcome.ok or not outcome.calls[0].ok:
            return EvaluationResult.invalid(outcome.reason or outcome.calls[0].error)
        bins = check(outcome.calls[0].value, self.sizes, self.capacity)
        if isinstance(bins, str):
            return EvaluationResult.invalid(bins)
        return EvaluationResult(valid=True, score=len(self.sizes) / bins, metrics={"bins": bins})
'''

RULES = '''
from pathlib import Path


def capacity_of(problem_dir: Path) -> int:
    return int((Path(problem_dir) / "capacity.txt").read_text())


def check(assignment, sizes, capacity):
    if not isinstance(assignment, list) or len(assignment) != len(sizes):
        return "expected one bin index per item"
    loads = {}
    for size, b in zip(sizes, assignment):
        loads[b] = loads.get(b, 0) + size
    if max(loads.values()) > capacity:
        return "a bin is over capacity"
    return len(loads)
'''

PROGRAM = '''# EVOLVE-BLOCK-START
def pack(sizes, capacity):
    bins, loads = [], []
    for size in sizes:
        for i, load in enumerate(loads):
            if load + size <= capacity:
                loads[i] += size
                bins.append(i)
                break
        else:
            loads.append(size)
            bins.append(len(loads) - 1)
    return bins
# EVOLVE-BLOCK-END
'''


@pytest.fixture
def binpack(tmp_path: Path) -> Path:
    folder = tmp_path / "problems" / "binpack"
    folder.mkdir(parents=True)
    (folder / "binpack_eval.py").write_text(EVALUATOR)
    (folder / "binpack_rules.py").write_text(RULES)
    (folder / "capacity.txt").write_text("10\n")
    (folder / "initial_program.py").write_text(PROGRAM)
    (folder / "problem.yaml").write_text(
        "name: binpack\ndescription: Pack items into as few bins as possible.\n"
        "evaluator: binpack_eval:BinPackEvaluator\nevaluator_args: {items: 12}\n"
        "preload: []\n")
    return folder


def evolve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, "-m", "evolve.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300, check=False)


def test_eval_and_validate_import_the_problems_own_module(binpack: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scored = evolve("eval", str(binpack), str(binpack / "initial_program.py"), cwd=elsewhere)
    assert scored.returncode == 0, scored.stderr
    assert "valid" in scored.stdout and "bins: 7" in scored.stdout, scored.stdout
    checked = evolve("config", "validate", str(binpack), "--set", "evaluator_args.itms=3",
                     cwd=elsewhere)
    assert checked.returncode == 2 and "did you mean 'items'?" in checked.stderr, checked.stderr


@pytest.mark.slow
def test_run_workers_import_the_problems_own_module(binpack: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    ran = evolve("run", str(binpack), "--iterations", "2", "--out", str(out), "--name", "bp",
                 "--set", "evaluation.workers=1", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr[-3000:]
    from evolve.runs import open_run

    run = open_run(out / "bp")
    programs = list(run.store.programs(run.run_id))
    assert any(p.valid and p.metrics.get("bins") == 7 for p in programs), programs


def test_problems_lists_paths_that_resolve_from_here(binpack: Path, tmp_path: Path) -> None:
    root = binpack.parent
    for cwd, given in ((tmp_path, "problems"), (root / "binpack", str(root)),
                       (tmp_path / "problems", ".")):
        listed = evolve("problems", "--root", given, cwd=cwd)
        assert listed.returncode == 0, listed.stderr
        path = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout).split()[0]  # FORCE_COLOR may style it
        assert (cwd / path / "problem.yaml").is_file(), (cwd, given, listed.stdout)
