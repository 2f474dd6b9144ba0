"""Pipeline efficiency: do LLM calls and evaluations overlap well enough to keep every
evaluation worker busy?

With W workers and an evaluator that takes T seconds, no scheduler can exceed W / T
evaluations per second. An LLM that takes L seconds per call is served by a local
OpenAI-compatible endpoint (instant edits, delayed by L). The controller runs for real
(prompts, edits, static gate, sandbox, SQLite store); the table shows the achieved
evaluations/s in the steady state (first to last child) and its ratio to W / T.
Goal: ratio >= 0.9.

    .venv/bin/python bench/pipeline.py          # about 1 minute
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import tempfile
from pathlib import Path

from llm_endpoint import Endpoint, instant_answer
from problem_fixture import make_problem

from evolve.controller import Controller
from evolve.problem import load_problem
from evolve.runs import create_run

CASES = [  # (workers W, evaluator seconds T, LLM seconds L)
    (2, 0.5, 0.2),
    (4, 0.5, 1.0),
    (8, 1.0, 2.0),
]
SECONDS_PER_CASE = 12.0


def measure(root: Path, workers: int, eval_s: float, llm_s: float) -> tuple[float, int]:
    problem_dir = make_problem(root / f"w{workers}", eval_s)
    evaluations = max(int(workers / eval_s * SECONDS_PER_CASE), 4 * workers)
    concurrency = workers * math.ceil(llm_s / eval_s) + workers  # enough calls to cover L
    with Endpoint(instant_answer, delay_s=llm_s) as endpoint:
        os.environ["BENCH_API_KEY"] = "not-used"
        overrides = [
            f'llm.models=[{{name: bench, base_url: "{endpoint.base_url}", api_key_env: BENCH_API_KEY}}]',
            f"llm.concurrency={concurrency}", f"evaluation.workers={workers}",
            f"budget.iterations={evaluations}", "database.num_islands=2",
        ]
        problem = load_problem(problem_dir, None, overrides)
        run = create_run(problem, root / "runs", f"w{workers}")
        asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
        children = sorted(p.created_at for p in run.store.programs(run.run_id) if p.origin == "llm")
        run.store.close()
    # Steady state: skip the first 2W completions (worker processes and their sandboxes
    # starting, the pipeline filling up).
    steady = children[2 * workers:]
    rate = (len(steady) - 1) / (steady[-1] - steady[0])
    return rate, len(children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    print(f"{'W':>3} {'T s':>5} {'L s':>5} {'evals':>6} {'achieved/s':>11} {'limit W/T':>10} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="evolve-bench-pipeline-") as tmp:
        for workers, eval_s, llm_s in CASES:
            rate, count = measure(Path(tmp), workers, eval_s, llm_s)
            limit = workers / eval_s
            print(f"{workers:>3} {eval_s:>5.2f} {llm_s:>5.2f} {count:>6} {rate:>11.2f} {limit:>10.2f} "
                  f"{rate / limit:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
