"""Multi-region spot scheduling (ADRS ``cant-be-late-multi``): scenarios of regions whose
aligned traces a run may move between. The rules are those of ``simulators.cant_be_late``
(one region is the special case); this package adds the scenarios and the trace file.
Pure: imports nothing from ``evolve``.

Each trace window ``i`` of the source data is its own stretch of time (60 h, sampled
every 195 s), the same for every region. The windows used together never overlap in
time (``check_disjoint``), so all of them can be stepped by their own tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from simulators.cant_be_late.traces import (
    JobSpec,
    RunSpec,
    Schedule,
    Timeline,
    load_json,
    price_series,
    unavailable_bits,
)

# The ADRS evaluator's job and stage-2 scenarios (cant-be-late-multi/evaluator.py).
ADRS_JOB = JobSpec(48, 52, 0.2)


@dataclass(frozen=True)
class Scenario:
    name: str
    regions: tuple[str, ...]
    windows: tuple[str, ...]


def _windows(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))


ADRS_SCENARIOS = [
    Scenario("2_zones_same_region", ("us-east-1a_v100_1", "us-east-1c_v100_1"), _windows(8)),
    Scenario("2_regions_east_west", ("us-east-2a_v100_1", "us-west-2a_v100_1"), _windows(8)),
    Scenario("3_regions_diverse",
             ("us-east-1a_v100_1", "us-east-2b_v100_1", "us-west-2c_v100_1"), _windows(6)),
    Scenario("3_zones_same_region",
             ("us-east-1a_v100_1", "us-east-1c_v100_1", "us-east-1d_v100_1"), _windows(6)),
    Scenario("5_regions_high_diversity",
             ("us-east-1a_v100_1", "us-east-1f_v100_1", "us-west-2a_v100_1",
              "us-west-2b_v100_1", "us-east-2b_v100_1"), _windows(4)),
    Scenario("all_9_regions",
             ("us-east-2a_v100_1", "us-west-2c_v100_1", "us-east-1d_v100_1",
              "us-east-2b_v100_1", "us-west-2a_v100_1", "us-east-1f_v100_1",
              "us-east-1a_v100_1", "us-west-2b_v100_1", "us-east-1c_v100_1"), _windows(2)),
]


def scenario_from_dict(item: dict[str, Any]) -> Scenario:
    return Scenario(str(item["name"]), tuple(str(r) for r in item["regions"]),
                    tuple(str(w) for w in item["windows"]))


def check_disjoint(data: dict[str, Any], windows: set[str]) -> None:
    """Windows stepped side by side must not overlap in time (see the module note)."""
    span = timedelta(seconds=int(data["gap_seconds"]) * int(data["window_ticks"]))
    starts = sorted((datetime.fromisoformat(data["windows"][w]["start_time"]), w)
                    for w in windows)
    for (a, wa), (b, wb) in zip(starts, starts[1:]):
        if b - a < span:
            raise ValueError(f"trace windows {wa} and {wb} overlap in time")


def load_scenarios(path: Path, scenarios: list[Scenario], jobs: list[JobSpec]) -> Schedule:
    """Runs of ``scenarios`` (every window of each, with each job), in the ADRS order."""
    data = load_json(path)
    gap, length = int(data["gap_seconds"]), int(data["window_ticks"])
    used = {w for s in scenarios for w in s.windows}
    missing = sorted(used - set(data["windows"]))
    if missing:
        raise ValueError(f"no trace window {', '.join(missing)}")
    check_disjoint(data, used)
    timelines = {}
    for w in sorted(used):
        bits = data["windows"][w]["bits"]
        names = {r for s in scenarios if w in s.windows for r in s.regions}
        unknown = sorted(names - set(bits))
        if unknown:
            raise ValueError(f"window {w} has no region {', '.join(unknown)}")
        prices = data["windows"][w]["spot_prices"]
        timelines[w] = Timeline(w, gap, {r: unavailable_bits(bits[r]) for r in names},
                                {r: price_series(prices[r], length) for r in names})
    runs = [
        RunSpec(s.name, w, w, 0, length, s.regions, job, gap)
        for job in jobs
        for s in scenarios
        for w in s.windows
    ]
    return Schedule(runs, timelines)


__all__ = ["ADRS_JOB", "ADRS_SCENARIOS", "Scenario", "check_disjoint", "load_scenarios",
           "scenario_from_dict"]
