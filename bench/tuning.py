"""Autotuning on vs off with the offline engine, at the same evaluation budget.

For each problem and seed (seeds 0, 1, ...), three runs of the loop with the offline mutation engine
(no model): tuning off, tuning off again (the noise floor: runs are not bit-reproducible,
since with 2 workers evaluations finish in varying order), and tuning on
(``search.tune.enabled``, default settings: TPE, 20 trials per new island best, half of
the workers). Every run gets the same evaluation budget N; the table compares the best
train score among the first N evaluated programs (baselines included, copies not), median
over seeds, and shows the holdout score of that best program where the problem has one.
"eplb_knobs" is EPLB started from bench/programs/eplb_knobs.py (two annotated constants).

    .venv/bin/python bench/tuning.py                     # 4 problems, about 12 minutes on 2 cores
    .venv/bin/python bench/tuning.py --problems circle_packing --seeds 5
    .venv/bin/python bench/tuning.py --evaluations circle_packing=150 eplb=20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from evolve.controller import Controller
from evolve.database.records import ProgramRecord
from evolve.problem import load_problem
from evolve.report.scores import holdout_score
from evolve.runs import create_run

# name -> (problem folder, initial program replacing the problem's own, or None)
PROBLEMS: dict[str, tuple[str, str | None]] = {
    "circle_packing": ("problems/circle_packing", None),
    "eplb": ("problems/eplb", None),
    # The shipped EPLB programs hold no literal the default rule tunes; this one adds two
    # annotated knobs at values that reproduce the shipped policy exactly.
    "eplb_knobs": ("problems/eplb", "bench/programs/eplb_knobs.py"),
    "telemetry_repair": ("problems/adrs/telemetry_repair", None),
}
# name -> (evaluation budget N, seeds): circle packing runs in seconds and its seeds differ
# widely, so it gets more of them; an EPLB run takes about a minute.
SETTINGS = {"circle_packing": (150, 9), "eplb": (20, 3), "eplb_knobs": (30, 3),
            "telemetry_repair": (100, 5)}
CONFIGS = {
    "off": [],
    "off again": ["search.tune.enabled=false"],  # the same configuration, run again
    "on": ["search.tune.enabled=true"],
}


@dataclass
class Outcome:
    best: float
    holdout: float | None
    trials: int
    tuned_best: bool  # the best program is a tuning trial


def is_copy(p: ProgramRecord) -> bool:
    return p.origin == "migration" or (p.origin == "initial" and p.parent_id is not None)


def run_once(problem: str, overrides: list[str], seed: int, evaluations: int, out: Path,
             name: str) -> Outcome:
    common = [f"seed={seed}", "budget.iterations=null", f"budget.evaluations={evaluations}",
              "evaluation.workers=2", "llm.concurrency=2"]
    folder, program = PROBLEMS[problem]
    if program is not None:
        common.append(f"initial_programs=[{str(REPO / program)!r}]")
    loaded = load_problem(REPO / folder, overrides=common + overrides)
    run = create_run(loaded, out, name)
    try:
        asyncio.run(Controller(loaded, run.store, run.run_id, run.run_dir).run())
        evaluated = [p for p in run.store.programs(run.run_id) if not is_copy(p)][:evaluations]
    finally:
        run.store.close()
    ranked = [p for p in evaluated if p.valid and p.score is not None]
    best = max(ranked, key=lambda p: float(p.score or 0.0))
    trials = sum(p.origin == "tune" for p in evaluated)
    holdout = holdout_score(best.holdout)  # the number the leaderboard shows
    return Outcome(float(best.score or 0.0), holdout, trials, best.origin == "tune")


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def shown(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    parser.add_argument("--seeds", type=int, help="seeds per problem (default: per problem, "
                        + ", ".join(f"{k}={v[1]}" for k, v in SETTINGS.items()) + ")")
    parser.add_argument("--evaluations", nargs="+", default=[],
                        help="per-problem budgets, NAME=N (defaults: "
                        + ", ".join(f"{k}={v[0]}" for k, v in SETTINGS.items()) + ")")
    args = parser.parse_args()
    budgets = {k: v[0] for k, v in SETTINGS.items()}
    budgets.update({k: int(v) for k, v in (item.split("=") for item in args.evaluations)})
    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        for problem in args.problems:
            n = budgets[problem]
            seeds = list(range(args.seeds or SETTINGS[problem][1]))
            results: dict[str, list[Outcome]] = {}
            for config, overrides in CONFIGS.items():
                results[config] = [
                    run_once(problem, overrides, s, n, Path(tmp), f"{problem}-{config}-{s}".replace(" ", "_"))
                    for s in seeds
                ]
                print(f"{problem} {config}: " + " ".join(f"{o.best:.4f}" for o in results[config])
                      + f" ({time.monotonic() - started:.0f}s elapsed)", file=sys.stderr, flush=True)
            rows.append((problem, n, results))
    print("\noffline engine; best train score within the first N evaluations, median over seeds\n")
    print("| problem | N | seeds | off | off again | noise: medians | noise: largest per seed | on | on - off "
          "| seeds on > off | trials run (median) | best is a trial | per seed off / off again / on |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for problem, n, results in rows:
        seeds = list(range(len(results["off"])))
        off, again, on = (median([o.best for o in results[c]]) for c in CONFIGS)
        assert off is not None and again is not None and on is not None
        wins = sum(b.best > a.best for a, b in zip(results["off"], results["on"]))
        tuned = sum(o.tuned_best for o in results["on"])
        per_seed = " / ".join(" ".join(f"{o.best:.4f}" for o in results[c]) for c in CONFIGS)
        trials = statistics.median(o.trials for o in results["on"])
        spread = max(abs(a.best - b.best) for a, b in zip(results["off"], results["off again"]))
        print(f"| {problem} | {n} | {len(seeds)} | {off:.4f} | {again:.4f} | {abs(off - again):.4f} | {spread:.4f} "
              f"| {on:.4f} | {on - off:+.4f} | {wins}/{len(seeds)} | {trials:g} | {tuned}/{len(seeds)} "
              f"| {per_seed} |")
    print("\nholdout score of the best train program (median over seeds; '-': no holdout)\n")
    print("| problem | off: train | off: holdout | on: train | on: holdout |")
    print("|---|---:|---:|---:|---:|")
    for problem, _, results in rows:
        print(f"| {problem} | {shown(median([o.best for o in results['off']]))} "
              f"| {shown(median([o.holdout for o in results['off']]))} "
              f"| {shown(median([o.best for o in results['on']]))} "
              f"| {shown(median([o.holdout for o in results['on']]))} |")
    print(f"\ntotal {time.monotonic() - started:.0f}s")


if __name__ == "__main__":
    main()
