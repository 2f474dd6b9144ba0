"""Cost of the spot-scheduling simulator alone: the 1,080 ADRS runs of the greedy seed
and of Uniform Progress as vectorised policies, and the trusted replay of a decision
log of the same size. Prints medians; asserts nothing.

    .venv/bin/python bench/cant_be_late_simulator.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np

from simulators.cant_be_late import JobSpec, load_windows, replay, simulate
from simulators.cant_be_late.policies import greedy, uniform_progress

TRACES = ROOT / "problems" / "adrs" / "cant_be_late" / "data" / "traces.json"
ADRS_SECONDS = 428.0  # the ADRS evaluator on the greedy seed, machine mostly idle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    jobs = [JobSpec(48, d, o) for d in (52, 70, 92) for o in (0.02, 0.2, 0.4)]
    start = time.perf_counter()
    schedule = load_windows(TRACES, "adrs", jobs)
    model_jobs = [r.model_job() for r in schedule.runs]
    available, prices = schedule.run_available(), schedule.run_prices()
    print(f"load traces, 1,080 runs: {(time.perf_counter() - start) * 1000:.1f} ms")
    for policy in (greedy, uniform_progress):
        times, outcome = [], None
        for _ in range(repeat):
            start = time.perf_counter()
            outcome = simulate(model_jobs, available, prices, policy)
            times.append(time.perf_counter() - start)
        assert outcome is not None
        median = statistics.median(times)
        print(f"simulate {policy.__name__:<17} {median * 1000:7.1f} ms  mean cost "
              f"{np.mean(outcome.cost):.4f}  (ADRS evaluator {ADRS_SECONDS:.0f} s: "
              f"{ADRS_SECONDS / median:,.0f}x)")
    rng = np.random.default_rng(0)
    log = rng.integers(0, 3, size=available.shape[:2]).astype(np.uint8)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        replay(model_jobs, available, prices, log)
        times.append(time.perf_counter() - start)
    print(f"replay a random decision log  {statistics.median(times) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
