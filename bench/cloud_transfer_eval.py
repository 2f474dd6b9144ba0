"""Evaluation time of the cloud transfer problem's initial program (5 ADRS scenarios).

Prints timings and ratios; asserts nothing. Goal: <= 0.2 s per evaluation of all 5
train scenarios. For comparison, the ADRS Cloudcast evaluator takes 2.7-7.7 s per
evaluation, about 0.9 s per scenario of it rebuilding the graph with pandas (figures
reported for ADRS; its code is not run here).

    .venv/bin/python bench/cloud_transfer_eval.py [--repeat 10] [--mode adrs|rich]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluators.cloud_transfer.evaluator import CloudTransferEvaluator
from evolve.evaluation.sandbox import Sandbox, SandboxLimits
from evolve.evaluation.types import EvaluationContext

PROBLEM = ROOT / "problems" / "cloud_transfer"
ADRS_EVAL_S = (2.7, 7.7)
GOAL_S = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--mode", default="adrs", choices=["adrs", "rich"])
    args = parser.parse_args()
    program = PROBLEM / "initial_program.py"

    start = time.perf_counter()
    evaluator = CloudTransferEvaluator(PROBLEM, mode=args.mode, holdout=None)
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    CloudTransferEvaluator(PROBLEM, mode=args.mode, holdout=None)
    cached_s = time.perf_counter() - start

    sandbox = Sandbox(preload=["numpy", "networkx"])
    context = EvaluationContext(problem_dir=PROBLEM, sandbox=sandbox, timeout_s=60)
    result = evaluator.evaluate(program, context)  # warm the zygote
    if not result.valid:
        raise SystemExit(f"initial program invalid: {result.reason}")
    totals, child, candidate = [], [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = evaluator.evaluate(program, context)
        totals.append(time.perf_counter() - start)
        candidate.append(result.metrics["candidate_time_s"])
        run = sandbox.run(program, evaluator._calls(evaluator.train), SandboxLimits(timeout_s=60))
        child.append(run.wall_s)
    sandbox.close()

    median = statistics.median(totals)
    print(
        f"mode={args.mode}  total_cost=${result.metrics['total_cost']:.2f}  "
        f"gap_to_optimum={result.metrics['gap_to_optimum']:+.1%}"
    )
    print(f"evaluator setup (network, graphs, references), first : {setup_s * 1000:8.1f} ms")
    print(f"evaluator setup, cached in the same process          : {cached_s * 1000:8.1f} ms")
    print(
        f"evaluate(), 5 scenarios, median of {args.repeat:<3}              : {median * 1000:8.1f} ms "
        f"(min {min(totals) * 1000:.1f}, max {max(totals) * 1000:.1f})"
    )
    print(
        f"  sandbox child wall (fork, import, 5 calls), median : {statistics.median(child) * 1000:8.1f} ms"
    )
    print(
        f"  candidate compute inside the child, median         : {statistics.median(candidate) * 1000:8.1f} ms"
    )
    print(f"goal {GOAL_S:.1f} s: median / goal = {median / GOAL_S:.2f}")
    print(
        f"ADRS evaluator {ADRS_EVAL_S[0]}-{ADRS_EVAL_S[1]} s: speed-up x{ADRS_EVAL_S[0] / median:.0f}"
        f"-x{ADRS_EVAL_S[1] / median:.0f}"
    )


if __name__ == "__main__":
    main()
