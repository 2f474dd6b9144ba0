"""Ablation of the search features with the offline mutation engine.

Each feature is switched on alone against the same configuration with it off, with the
same iteration budget and seeds; the table shows the median best train score over seeds
and the median number of evaluations. The first row runs the baseline twice: with
concurrent workers a run is not bit-reproducible, so it shows the run-to-run noise.
The offline engine does not read prompts, so features that act only through the
prompt (scratchpad recommendations, the explore / exploit templates) can help here
only through their side effects (temperature); with a real model they also change
what is asked.

    .venv/bin/python bench/ablation.py                       # both problems, 3 seeds
    .venv/bin/python bench/ablation.py --problems circle_packing --seeds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evolve.controller import Controller
from evolve.problem import load_problem
from evolve.runs import create_run

TWO_OFFLINE_MODELS = ("llm.models=[{name: offline-gentle, provider: offline, temperature: 0.15},"
                      " {name: offline-wild, provider: offline, temperature: 1.5}]")

# name -> (overrides with the feature off, overrides with it on)
FEATURES: dict[str, tuple[list[str], list[str]]] = {
    # The baseline once more (a default value set explicitly, so it is not taken from the cache):
    # runs are not bit-reproducible (evaluations finish in varying order with 2 workers), so
    # this row is the noise floor the other rows must beat.
    "none (baseline run again: noise floor)": ([], ["search.retry_failed_edit=false"]),
    "pareto (weight 0.3 of parent_selection)": (
        [], ["database.parent_selection=[{name: explore, weight: 0.2}, {name: exploit, weight: 0.4},"
             " {name: elite, weight: 0.1}, {name: pareto, weight: 0.3}]"]),
    "novelty (threshold 0.95, 2 resamples)": (
        [], ["search.novelty.enabled=true", "search.novelty.threshold=0.95", "search.novelty.max_resamples=2"]),
    "bandit (ucb vs fixed weights, 2 offline models)": (
        [TWO_OFFLINE_MODELS], [TWO_OFFLINE_MODELS, "llm.selection=ucb"]),
    "scratchpad (every 10, statistics)": (
        [], ["search.scratchpad.enabled=true", "search.scratchpad.every=10"]),
    "adaptive exploration (stall 10, climb 3)": (
        [], ["search.exploration.enabled=true", "search.exploration.stall_iterations=10",
             "search.exploration.climb_window=3"]),
}


def run_once(problem_name: str, overrides: list[str], seed: int, iterations: int, out: Path) -> tuple[float, int]:
    common = [f"seed={seed}", f"budget.iterations={iterations}", "evaluation.workers=2", "llm.concurrency=2"]
    problem = load_problem(REPO / "problems" / problem_name, overrides=common + overrides)
    run = create_run(problem, out, f"{problem_name}-{seed}")
    try:
        summary = asyncio.run(Controller(problem, run.store, run.run_id, run.run_dir).run())
        best = summary.best.score if summary.best is not None and summary.best.score is not None else float("nan")
        return best, summary.counters.evaluations
    finally:
        run.store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="+", default=["circle_packing", "eplb"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iterations", nargs="+", default=["circle_packing=120", "eplb=30"],
                        help="per-problem budgets, NAME=ITERATIONS")
    args = parser.parse_args()
    budgets = {k: int(v) for k, v in (item.split("=") for item in args.iterations)}
    seeds = list(range(args.seeds))
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for problem in args.problems:
            iterations = budgets.get(problem, 60)
            cache: dict[tuple[str, ...], list[tuple[float, int]]] = {}
            for feature, (off, on) in FEATURES.items():
                for overrides in (off, on):  # the shared "off" configuration runs once per seed
                    if tuple(overrides) not in cache:
                        cache[tuple(overrides)] = [run_once(problem, overrides, s, iterations, out) for s in seeds]
                results_off, results_on = cache[tuple(off)], cache[tuple(on)]
                off_best = statistics.median(r[0] for r in results_off)
                on_best = statistics.median(r[0] for r in results_on)
                rows.append((problem, iterations, feature, off_best, on_best,
                             statistics.median(r[1] for r in results_off),
                             statistics.median(r[1] for r in results_on),
                             sum(b > a for (a, _), (b, _) in zip(results_off, results_on))))
                print(f"{problem} {feature}: off {off_best:.6g} on {on_best:.6g} "
                      f"({time.monotonic() - started:.0f}s elapsed)", file=sys.stderr, flush=True)
    print(f"\nseeds: {seeds}; offline engine; median over seeds\n")
    print("| problem (iterations) | feature | best off | best on | on/off | evaluations off | evaluations on "
          "| seeds where on > off |")
    print("|---|---|---|---|---|---|---|---|")
    for problem, iterations, feature, off_best, on_best, ev_off, ev_on, wins in rows:
        print(f"| {problem} ({iterations}) | {feature} | {off_best:.6g} | {on_best:.6g} | {on_best / off_best:.4f} "
              f"| {ev_off:g} | {ev_on:g} | {wins}/{len(seeds)} |")


if __name__ == "__main__":
    main()
