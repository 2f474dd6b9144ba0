"""Availability traces, runs (a job on a trace window) and their alignment in time.

A *timeline* is one stretch of wall-clock time sampled every ``gap`` seconds, with one
availability series per *source* (an instance pool in a zone). A run uses a window of
a timeline, starting at index ``start``, and one source per region. Runs on the same
timeline overlap in time, so they are stepped by timeline index, never by their own
tick (``Schedule``): the window starting 13 ticks later would otherwise show a run its
own availability 13 ticks ahead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulators.cant_be_late.model import SPOT_PRICE, Job


@dataclass(frozen=True)
class Timeline:
    name: str
    gap_s: int
    available: dict[str, np.ndarray]  # source -> bool per index (True: spot available)
    spot_price: dict[str, np.ndarray] | None = None  # source -> $/h per index; None: constant

    def price(self, source: str) -> np.ndarray:
        if self.spot_price is None:
            return np.full(len(self.available[source]), SPOT_PRICE)
        return self.spot_price[source]


@dataclass(frozen=True)
class JobSpec:
    duration_h: float
    deadline_h: float
    overhead_h: float

    @property
    def label(self) -> str:
        return f"d{self.duration_h:g}_dl{self.deadline_h:g}_o{self.overhead_h:g}"


@dataclass(frozen=True)
class RunSpec:
    """One simulation: a job on a window of a timeline, one source per region."""

    group: str  # env (one region) or scenario (several) the run is reported under
    window: str  # trace name within the group
    timeline: str
    start: int  # index of the window's first tick on the timeline
    length: int  # ticks in the window; spot is unavailable beyond it
    sources: tuple[str, ...]
    job: JobSpec
    gap_s: int

    @property
    def label(self) -> str:
        return f"{self.group}/{self.window}/{self.job.label}"

    def model_job(self) -> Job:
        j = self.job
        return Job(j.duration_h, j.deadline_h, j.overhead_h, self.gap_s, len(self.sources))

    def max_ticks(self) -> int:
        """Ticks after which the run must be done: the guarantee forces on-demand in time
        to finish by the deadline, give or take the tick it may keep spot and a restart."""
        deadline_ticks = int(np.ceil(self.job.deadline_h * 3600 / self.gap_s))
        overhead_ticks = int(np.ceil(self.job.overhead_h * 3600 / self.gap_s))
        return deadline_ticks + overhead_ticks + 4


def unavailable_bits(text: str) -> np.ndarray:
    """A '0'/'1' string (1: spot unavailable, the source format) -> availability."""
    raw = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    if not np.isin(raw, (48, 49)).all():
        raise ValueError("trace bits must be '0' or '1'")
    available: np.ndarray = raw == 48
    return available


def price_series(changes: list[list[float]], length: int) -> np.ndarray:
    """[[first index, price], ...] (ascending, starting at 0) -> a price per index."""
    out = np.empty(length)
    starts = [int(c[0]) for c in changes]
    if not starts or starts[0] != 0 or starts != sorted(set(starts)):
        raise ValueError("price changes must start at index 0 and ascend")
    for (start, value), end in zip(changes, [*starts[1:], length]):
        out[int(start):end] = float(value)
    return out


def load_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


@dataclass
class Schedule:
    """Steps shared by every run of an evaluation: at step ``c`` a run on timeline ``L``
    sees index ``base[L] + c`` of it; nothing of a later index is known at that step."""

    runs: list[RunSpec]
    timelines: dict[str, Timeline]

    def __post_init__(self) -> None:
        self.base = {name: min(r.start for r in self.runs if r.timeline == name)
                     for name in {r.timeline for r in self.runs}}
        # One slot per (timeline, source) a run uses, in a fixed order.
        self.slots = sorted({(r.timeline, s) for r in self.runs for s in r.sources})
        self.slot_of = {key: i for i, key in enumerate(self.slots)}
        self.first_step = [r.start - self.base[r.timeline] for r in self.runs]
        self.steps = max(f + r.max_ticks() for f, r in zip(self.first_step, self.runs))

    def step_inputs(self, step: int) -> tuple[bytes, list[float]]:
        """Availability (1/0) and spot price of every slot at ``step``: all that the
        process learns then."""
        bits = bytearray(len(self.slots))
        prices = []
        for i, (name, source) in enumerate(self.slots):
            timeline = self.timelines[name]
            series = timeline.available[source]
            index = min(self.base[name] + step, len(series) - 1)
            bits[i] = 1 if self.base[name] + step < len(series) and series[index] else 0
            prices.append(float(timeline.price(source)[index]))
        return bytes(bits), prices

    def _per_run(self, pick: str) -> np.ndarray:
        ticks = max(r.max_ticks() for r in self.runs)
        regions = max(len(r.sources) for r in self.runs)
        dtype = bool if pick == "available" else np.float64
        out = np.zeros((len(self.runs), ticks, regions), dtype=dtype)
        for i, run in enumerate(self.runs):
            timeline = self.timelines[run.timeline]
            for k, source in enumerate(run.sources):
                if pick == "available":
                    part = timeline.available[source][run.start: run.start + run.length][:ticks]
                    out[i, : len(part), k] = part
                else:
                    series = timeline.price(source)
                    index = np.minimum(run.start + np.arange(ticks), len(series) - 1)
                    out[i, :, k] = series[index]
        return out

    def run_available(self) -> np.ndarray:
        """[runs, ticks, regions] availability in each run's own ticks (False beyond the
        window or the series), for the trusted replay."""
        return self._per_run("available")

    def run_prices(self) -> np.ndarray:
        """[runs, ticks, regions] spot price in each run's own ticks (the last price
        holds beyond the series)."""
        return self._per_run("price")

    def driver_setup(self) -> dict[str, Any]:
        """What the driver needs before the first step: no availability at all."""
        return {
            "slots": len(self.slots),
            "runs": [
                {
                    "label": r.label,
                    "first_step": f,
                    "length": r.length,
                    "max_ticks": r.max_ticks(),
                    "slots": [self.slot_of[(r.timeline, s)] for s in r.sources],
                    "duration_h": r.job.duration_h,
                    "deadline_h": r.job.deadline_h,
                    "overhead_h": r.job.overhead_h,
                    "gap_s": r.gap_s,
                }
                for f, r in zip(self.first_step, self.runs)
            ],
        }


def load_windows(path: Path, set_name: str, jobs: list[JobSpec]) -> Schedule:
    """Runs of one set in a single-region trace file: every source x window x job, in the
    order the ADRS evaluator submits them (job, then source, then window)."""
    data = load_json(path)
    gap, length = int(data["gap_seconds"]), int(data["window_ticks"])
    sets = data["sets"]
    if set_name not in sets:
        raise ValueError(f"no set {set_name!r} (sets: {', '.join(sorted(sets))})")
    chosen = sets[set_name]
    series = {s: unavailable_bits(data["sources"][s]) for s in chosen["sources"]}
    timeline = Timeline("calendar", gap, series)
    runs = [
        RunSpec(source, str(w["name"]), timeline.name, int(w["start"]), length, (source,), job,
                gap)
        for job in jobs
        for source in chosen["sources"]
        for w in chosen["windows"]
    ]
    return Schedule(runs, {timeline.name: timeline})
