"""The rules of ``model.py``, vectorised over many runs advancing in lock-step.

``Fleet`` holds one row per run. ``replay`` scores a decision log (what a strategy
proposed at each tick of each run); ``simulate`` drives a vectorised policy instead.
Both apply the strong guarantee, the safety override, restart overheads, billing and
progress here, so nothing a strategy reports about itself enters a cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulators.cant_be_late.model import (
    DONE_EPSILON,
    GUARANTEE_EPSILON,
    MISSING,
    NONE,
    ON_DEMAND,
    OVERHEAD_EPSILON,
    REGION_STRIDE,
    SPOT,
    Job,
)


@dataclass
class Observation:
    """What a strategy may know at the current tick, one entry per run (live runs only)."""

    tick: int
    rows: np.ndarray  # which runs these entries are
    last: np.ndarray  # type run in the last tick
    running: np.ndarray  # env.cluster_type: idle once preempted
    has_spot: np.ndarray  # in the current region
    available: np.ndarray  # [rows, regions] spot availability now, every region
    region: np.ndarray
    done_s: np.ndarray
    overhead_left_s: np.ndarray
    duration_s: np.ndarray
    deadline_s: np.ndarray
    overhead_s: np.ndarray
    gap_s: np.ndarray
    regions: np.ndarray


@dataclass
class Outcome:
    """Per run: what it cost and when it finished (trusted figures)."""

    cost: np.ndarray  # each tick at the price where and when it ran
    adrs_cost: np.ndarray  # as the ADRS simulator bills (see ``adrs_costs``)
    finish_s: np.ndarray  # inf: not finished within the ticks given
    end_tick: np.ndarray  # the tick whose observation credited the last work; -1 if none
    deadline_s: np.ndarray
    spot_ticks: np.ndarray
    on_demand_ticks: np.ndarray
    first_bad: tuple[int, int, int] | None  # (run, tick, code) of the first unusable decision

    @property
    def finished(self) -> np.ndarray:
        done: np.ndarray = np.isfinite(self.finish_s)
        return done

    @property
    def late_s(self) -> np.ndarray:
        late: np.ndarray = np.where(self.finished,
                                    np.maximum(self.finish_s - self.deadline_s, 0.0), np.inf)
        return late


class Fleet:
    """State of many runs (see ``model.Run`` for the rules, one run at a time)."""

    def __init__(self, jobs: list[Job]) -> None:
        n = len(jobs)
        self.duration = np.array([j.duration_s for j in jobs], dtype=np.float64)
        self.deadline = np.array([j.deadline_s for j in jobs], dtype=np.float64)
        self.overhead = np.array([j.overhead_s for j in jobs], dtype=np.float64)
        self.gap = np.array([j.gap_s for j in jobs], dtype=np.float64)
        self.regions = np.array([j.regions for j in jobs], dtype=np.int64)
        self.od_price = np.array([j.on_demand_price for j in jobs], dtype=np.float64)
        self.done = np.zeros(n)
        self.overhead_left = np.zeros(n)
        self.cluster = np.full(n, NONE, dtype=np.int64)
        self.region = np.zeros(n, dtype=np.int64)
        self.cost = np.zeros(n)
        self.pending = np.zeros(n)
        self.final_region = np.zeros(n, dtype=np.int64)
        self.history: list[np.ndarray] = []  # type run in each tick, per run (NONE once ended)
        self.finish = np.full(n, np.inf)
        self.end_tick = np.full(n, -1, dtype=np.int64)
        self.ended = np.zeros(n, dtype=bool)
        self.spot_ticks = np.zeros(n, dtype=np.int64)
        self.on_demand_ticks = np.zeros(n, dtype=np.int64)
        self.first_bad: tuple[int, int, int] | None = None

    def observe(self, tick: int, available: np.ndarray) -> Observation:
        """Start of ``tick`` for every live run; ``available`` is [runs, regions]."""
        rows = np.flatnonzero(~self.ended)
        last = self.cluster[rows]
        has_spot = available[rows, self.region[rows]]
        self.cost[rows] += self.pending[rows]
        self.pending[rows] = 0.0
        gap = self.gap[rows]
        active = last != NONE
        left = self.overhead_left[rows]
        raw = np.maximum(gap - left, 0.0)
        left = np.where(active, left - (gap - raw), left)
        left = np.where(active & (left < OVERHEAD_EPSILON), 0.0, left)
        self.overhead_left[rows] = left
        done = self.done[rows]
        credit = np.where(active, np.minimum(raw, self.duration[rows] - done), 0.0)
        done = done + credit
        self.done[rows] = done
        newly = active & (self.duration[rows] - done <= DONE_EPSILON) & ~np.isfinite(
            self.finish[rows]
        )
        hit = rows[newly]
        self.finish[hit] = (tick - 1) * gap[newly] + (gap[newly] - raw[newly]) + credit[newly]
        self.end_tick[hit] = tick
        running = np.where((last == SPOT) & ~has_spot, NONE, last)
        return Observation(
            tick, rows, last, running, has_spot, available[rows], self.region[rows],
            done, left, self.duration[rows], self.deadline[rows], self.overhead[rows], gap,
            self.regions[rows],
        )

    def settle(self, obs: Observation, codes: np.ndarray, spot_price: np.ndarray) -> None:
        """End of the tick: ``codes`` are the proposals (type + 3 * region) of ``obs.rows``,
        ``spot_price`` [runs, regions] the spot prices now."""
        rows = obs.rows
        codes = np.asarray(codes, dtype=np.int64)
        proposed, region = codes % REGION_STRIDE, codes // REGION_STRIDE
        bad = (codes < 0) | (codes == MISSING) | (region >= obs.regions)
        if bad.any() and self.first_bad is None:
            i = int(np.flatnonzero(bad)[0])
            self.first_bad = (int(rows[i]), obs.tick, int(codes[i]))
        proposed = np.where(bad, NONE, proposed)
        region = np.where(bad, obs.region, region)
        gap = obs.gap_s
        remaining_time = np.floor((obs.deadline_s - obs.tick * gap) / gap) * gap
        remaining_work = obs.duration_s - obs.done_s
        needed = np.ceil((remaining_work + obs.overhead_s) / gap) * gap
        critical = (remaining_work > GUARANTEE_EPSILON) & (needed >= remaining_time)
        keep_spot = (obs.last == SPOT) & (obs.overhead_left_s < OVERHEAD_EPSILON)
        request = np.where(critical, np.where(keep_spot, SPOT, ON_DEMAND), proposed)
        spot_here = obs.available[np.arange(len(rows)), region]
        request = np.where((request == SPOT) & ~spot_here, NONE, request)
        restart = (obs.running != request) & (request != NONE)
        self.overhead_left[rows] = np.where(restart, obs.overhead_s, obs.overhead_left_s)
        self.cluster[rows] = request
        self.region[rows] = region
        closing = np.isfinite(self.finish[rows])
        billed = ~closing
        gap = obs.gap_s
        price = np.where(request == ON_DEMAND, self.od_price[rows],
                         np.where(request == SPOT, spot_price[rows, region], 0.0))
        self.pending[rows] = np.where(billed, price * gap / 3600, 0.0)
        self.spot_ticks[rows] += billed & (request == SPOT)
        self.on_demand_ticks[rows] += billed & (request == ON_DEMAND)
        history = np.full(len(self.cost), NONE, dtype=np.int8)
        history[rows[billed]] = request[billed]
        self.history.append(history)
        self.final_region[rows[closing]] = region[closing]
        self.ended[rows[closing]] = True

    def adrs_costs(self, first_spot_price: np.ndarray) -> np.ndarray:
        """The ADRS simulator's bill: every tick's type priced at the end of the run with
        the price map of the region the run ends in, whose spot price is that region's
        first trace price (``Env.accumulated_cost`` with ``get_constant_cost_map``)."""
        rows = np.arange(len(self.cost))
        spot = first_spot_price[rows, self.final_region] * self.gap / 3600
        on_demand = self.od_price * self.gap / 3600
        total = np.zeros(len(self.cost))
        for types in self.history:
            total += np.where(types == SPOT, spot, np.where(types == ON_DEMAND, on_demand, 0.0))
        return total

    def outcome(self, first_spot_price: np.ndarray) -> Outcome:
        return Outcome(
            self.cost.copy(), self.adrs_costs(first_spot_price), self.finish.copy(),
            self.end_tick.copy(), self.deadline.copy(), self.spot_ticks.copy(),
            self.on_demand_ticks.copy(), self.first_bad,
        )


def replay(jobs: list[Job], available: np.ndarray, spot_price: np.ndarray,
           decisions: np.ndarray) -> Outcome:
    """Score a decision log. ``available`` and ``spot_price`` are [runs, ticks, regions]
    (unavailable beyond a trace), ``decisions`` [runs, ticks] proposal codes (``MISSING``
    where none)."""
    fleet = Fleet(jobs)
    for tick in range(available.shape[1]):
        if fleet.ended.all():
            break
        obs = fleet.observe(tick, available[:, tick, :])
        fleet.settle(obs, decisions[obs.rows, tick], spot_price[:, tick, :])
    return fleet.outcome(spot_price[:, 0, :])


Policy = Callable[[Observation], np.ndarray]


def simulate(jobs: list[Job], available: np.ndarray, spot_price: np.ndarray,
             policy: Policy) -> Outcome:
    """Run a vectorised ``policy`` (observation -> proposal codes) on every run."""
    fleet = Fleet(jobs)
    for tick in range(available.shape[1]):
        if fleet.ended.all():
            break
        obs = fleet.observe(tick, available[:, tick, :])
        fleet.settle(obs, policy(obs), spot_price[:, tick, :])
    return fleet.outcome(spot_price[:, 0, :])
