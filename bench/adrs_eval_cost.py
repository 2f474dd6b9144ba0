"""Evaluation cost of the ADRS problems (problems/adrs/*): one evaluate() per initial
program with the sandbox zygote warm, train sets only (as ADRS evaluates) and with the
holdout sets too.

Prints timings and, where the ADRS study's evaluator was timed on the same program,
the ratio; asserts nothing.

    .venv/bin/python bench/adrs_eval_cost.py [--repeat 5] [problem ...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext
from evolve.problem import load_problem

PROBLEMS = ROOT / "problems" / "adrs"
# Wall time of one ADRS evaluation of the same initial program, as measured for
# ../shared/data/adrs/PROBLEMS.md (seconds; its evaluators have no holdout).
ADRS_SECONDS = {
    ("txn_scheduling", "initial_program.py"): 1.0,  # 0.9-1.1 s over 10 runs
    ("prism", "initial_program.py"): 0.11,  # evaluate() 0.04-0.18 s
    ("telemetry_repair", "initial_program.py"): 0.19,
    ("cant_be_late", "initial_program.py"): 428.0,  # 1,080 runs, machine mostly idle
    ("cant_be_late", "uniform_progress.py"): 448.0,
    ("cant_be_late_multi", "initial_program.py"): 100.0,  # 94-105 s
    ("llm_sql", "initial_program.py"): 43.0,  # 41-45 s (the ADRS program, 27 s reorder)
}


def _without(holdout: Any) -> Any:
    """The value an evaluator's ``holdout`` attribute takes when there is none."""
    return type(holdout)() if isinstance(holdout, (list, dict, tuple)) else None


def _median_s(evaluator: Any, path: Path, context: EvaluationContext, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        evaluator.evaluate(path, context)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _candidate_s(metrics: dict[str, float]) -> float:
    for key in ("candidate_time_s", "reorder_s"):
        if key in metrics:
            return metrics[key]
    return float("nan")


def measure(folder: Path, repeat: int) -> None:
    problem = load_problem(folder)
    config = problem.config
    start = time.perf_counter()
    evaluator = create_evaluator(config.evaluator, problem.directory, config.evaluator_args)
    setup_s = time.perf_counter() - start
    with Sandbox(preload=list(config.preload)) as sandbox:
        context = EvaluationContext(
            problem_dir=problem.directory, sandbox=sandbox, timeout_s=config.constraints.timeout_s
        )
        for program in config.initial_programs:
            path = problem.directory / program
            result = evaluator.evaluate(path, context)  # warms the zygote
            if not result.valid:
                raise SystemExit(f"{folder.name}/{program} invalid: {result.reason}")
            full = _median_s(evaluator, path, context, repeat)
            holdout = evaluator.holdout  # type: ignore[attr-defined]
            evaluator.holdout = _without(holdout)  # type: ignore[attr-defined]
            try:
                train = _median_s(evaluator, path, context, repeat)
            finally:
                evaluator.holdout = holdout  # type: ignore[attr-defined]
            line = (
                f"{folder.name:<18} {program:<22} train {train * 1000:7.1f} ms  "
                f"train+holdout {full * 1000:7.1f} ms  candidate "
                f"{_candidate_s(result.metrics) * 1000:7.1f} ms  "
                f"setup {setup_s * 1000:6.1f} ms  score {result.score:.4f}"
            )
            reference = ADRS_SECONDS.get((folder.name, program))
            if reference is not None:
                line += f"  ADRS {reference:.2f} s (ADRS / train {reference / train:.1f})"
            print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("problems", nargs="*", help="folder names under problems/adrs (default: all)")
    args = parser.parse_args()
    names = args.problems or sorted(p.parent.name for p in PROBLEMS.glob("*/problem.yaml"))
    for name in names:
        measure(PROBLEMS / name, args.repeat)


if __name__ == "__main__":
    main()
