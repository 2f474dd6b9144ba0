"""One spot-scheduling run, advanced one tick at a time with the published rules.

Standard library only: the sandbox driver ships this file next to the candidate (the
child's file view hides the project tree) to show a strategy what it may observe, and
the trusted side replays the same rules, vectorised, in ``replay.py``.

Time is cut into ticks of ``gap`` seconds. Each tick, in this order (the order of the
published ``sky_spot`` ``Strategy.step`` and ``Env.step``):

1. *observe*: the type run in the last tick is billed; if it was spot and spot is gone
   now, the job has been preempted; the last tick's progress is credited (nothing when
   idle, otherwise ``gap`` minus whatever restart overhead was still pending).
2. the strategy proposes a cluster type (and, with several regions, a region);
3. *strong guarantee*: once ``ceil((work left + restart overhead) / gap)`` ticks reach
   the whole ticks left before the deadline, on-demand is forced, unless the job ran on
   spot in the last tick with no overhead pending, which keeps spot for one more tick;
4. *safety*: spot requested where spot is unavailable becomes idle;
5. starting a different non-idle type charges the full restart overhead again.

The run ends at the tick whose observation credits the last second of work; the
strategy is still asked in that tick (it may move region), but nothing more is billed.
A tick is billed at the price of the type run, in the region where it ran, at that
tick: on-demand 3.06 $/h, spot at the trace's price (constant where a trace has none).
"""

from __future__ import annotations

import math

NONE, SPOT, ON_DEMAND = 0, 1, 2
TYPE_NAMES = ("NONE", "SPOT", "ON_DEMAND")
REGION_STRIDE = 3  # a decision code is type + REGION_STRIDE * region
MISSING = 255  # no decision for a run in a step (it was not running)

# sky_spot/utils.py: on-demand V100 price (DEVICE_COSTS is 3.06 for every env used) and
# the spot price derived from it through COST_K = 3.06 / 0.9731, in the same float steps.
ON_DEMAND_PRICE = 3.06
COST_K = 3.06 / 0.9731
SPOT_PRICE = ON_DEMAND_PRICE / COST_K
OVERHEAD_EPSILON = 1e-3  # sky_spot: remaining overhead below this counts as none
DONE_EPSILON = 1e-8  # sky_spot SingleTask.is_done
GUARANTEE_EPSILON = 1e-3  # sky_spot: work left below this skips the guarantee


class Job:
    """A job's parameters, in seconds, computed from hours as ``sky_spot`` does."""

    __slots__ = ("duration_s", "deadline_s", "overhead_s", "gap_s", "regions",
                 "on_demand_price")

    def __init__(
        self,
        duration_h: float,
        deadline_h: float,
        overhead_h: float,
        gap_s: int,
        regions: int = 1,
        on_demand_price: float = ON_DEMAND_PRICE,
    ) -> None:
        self.duration_s = float(duration_h) * 3600.0
        self.deadline_s = float(deadline_h) * 3600
        self.overhead_s = float(overhead_h) * 3600
        self.gap_s = gap_s
        self.regions = regions
        self.on_demand_price = on_demand_price

    def tick_cost(self, cluster: int, spot_price: float) -> float:
        """Env.accumulated_cost: price * gap_seconds / 3600 per tick, in that order."""
        if cluster == ON_DEMAND:
            return self.on_demand_price * self.gap_s / 3600
        if cluster == SPOT:
            return spot_price * self.gap_s / 3600
        return 0.0


def guarantee(job: Job, tick: int, done: float, last: int, overhead_left: float,
              proposed: int) -> int:
    """The strong guarantee (published ``Strategy._apply_strong_guarantee``)."""
    gap = job.gap_s
    remaining_time = math.floor((job.deadline_s - tick * gap) / gap) * gap
    remaining_work = job.duration_s - done
    if remaining_work <= GUARANTEE_EPSILON:
        return proposed
    needed = math.ceil((remaining_work + job.overhead_s) / gap) * gap
    if needed >= remaining_time:
        if last == SPOT and overhead_left < OVERHEAD_EPSILON:
            return SPOT
        return ON_DEMAND
    return proposed


class Run:
    """The state of one run. ``observe`` then ``settle`` once per tick."""

    __slots__ = ("job", "tick", "done", "overhead_left", "cluster", "region", "cost",
                 "pending", "finished", "finish_s", "last", "has_spot")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.tick = 0
        self.done = 0.0  # seconds of work credited (sum of task_done_time)
        self.overhead_left = 0.0  # remaining_restart_overhead
        self.cluster = NONE  # type requested for the last tick
        self.region = 0
        self.cost = 0.0
        self.pending = 0.0  # what the last tick costs, billed when it is observed
        self.finished = False  # the last second of work has been credited
        self.finish_s = math.inf  # when it was done, in seconds from the start
        self.last = NONE
        self.has_spot = False

    def observe(self, available: tuple[bool, ...] | list[bool]) -> float:
        """Start of a tick; returns the progress credited for the last tick."""
        job = self.job
        last = self.last = self.cluster
        self.has_spot = bool(available[self.region])
        self.cost += self.pending
        self.pending = 0.0
        if last == NONE:
            return 0.0
        gap = job.gap_s
        credit = max(gap - self.overhead_left, 0)
        self.overhead_left -= gap - credit
        if self.overhead_left < OVERHEAD_EPSILON:
            self.overhead_left = 0
        raw = credit
        credit = min(credit, job.duration_s - self.done)
        self.done += credit
        if job.duration_s - self.done <= DONE_EPSILON and not self.finished:
            self.finished = True
            # Overhead comes first in a tick, then work.
            self.finish_s = (self.tick - 1) * gap + (gap - raw) + credit
        return float(credit)

    @property
    def running_type(self) -> int:
        """``env.cluster_type`` after the observation: idle once preempted."""
        return NONE if self.last == SPOT and not self.has_spot else self.last

    def settle(self, proposed: int, region: int, available: tuple[bool, ...] | list[bool],
               spot_prices: tuple[float, ...] | list[float] = (SPOT_PRICE,)) -> int:
        """Apply the guarantee, safety and restart overhead to the proposal; end the tick."""
        request = guarantee(self.job, self.tick, self.done, self.last, self.overhead_left,
                            proposed)
        return self.apply(request, region, available, spot_prices)

    def apply(self, request: int, region: int, available: tuple[bool, ...] | list[bool],
              spot_prices: tuple[float, ...] | list[float] = (SPOT_PRICE,)) -> int:
        """``settle`` after the guarantee: safety, restart overhead, billing; ends the tick."""
        job = self.job
        self.region = region
        if request == SPOT and not available[region]:
            request = NONE
        if self.running_type != request and request != NONE:
            self.overhead_left = job.overhead_s
        self.cluster = request
        if not self.finished:
            self.pending = job.tick_cost(request, spot_prices[region])
        self.tick += 1
        return request


def decode(code: int) -> tuple[int, int]:
    """(type, region) of a decision code."""
    return code % REGION_STRIDE, code // REGION_STRIDE
