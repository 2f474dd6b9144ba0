"""A throwaway problem folder for benchmarks: a one-constant program and an evaluator
that takes a fixed time (the candidate still runs in the sandbox)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROGRAM = '''"""A trivial program: the score is VALUE."""

# EVOLVE-BLOCK-START
VALUE = 0.5


def value():
    return VALUE
# EVOLVE-BLOCK-END
'''

EVALUATOR = '''
import time

from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationResult


class FixedTimeEvaluator:
    """Runs value() in the sandbox, then waits until seconds_per_eval have passed."""

    def __init__(self, problem_dir, seconds_per_eval=0.0):
        self.seconds = float(seconds_per_eval)

    def evaluate(self, candidate_path, context):
        start = time.monotonic()
        result = context.sandbox.run(candidate_path, [CandidateCall("value")],
                                     SandboxLimits(timeout_s=context.timeout_s, memory_mb=1024))
        rest = self.seconds - (time.monotonic() - start)
        if rest > 0:
            time.sleep(rest)
        if not result.ok or not result.calls[0].ok:
            return EvaluationResult.invalid(result.reason or result.calls[0].error)
        return EvaluationResult(valid=True, score=float(result.calls[0].value))
'''


def make_problem(root: Path, seconds_per_eval: float) -> Path:
    """Write the problem folder under ``root`` and make its evaluator importable by
    evaluation workers (through PYTHONPATH, which they inherit)."""
    folder = root / "fixed_time"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "initial_program.py").write_text(PROGRAM)
    (root / "bench_fixed_time_evaluator.py").write_text(EVALUATOR)
    (folder / "problem.yaml").write_text(
        "name: fixed_time\ndescription: Maximise VALUE.\ninitial_programs: [initial_program.py]\n"
        "evaluator: bench_fixed_time_evaluator:FixedTimeEvaluator\n"
        f"evaluator_args: {{seconds_per_eval: {seconds_per_eval}}}\n"
        "preload: []\nconstraints: {timeout_s: 30}\n")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    sys.path.insert(0, str(root))
    return folder
