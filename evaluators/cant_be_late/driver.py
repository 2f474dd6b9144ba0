"""Trusted driver run as the sandbox program (candidate: ``candidate_program.py`` beside
it, with ``harness_support.py``, ``spot_model.py`` and the ``sky_spot`` stand-in).

The evaluator hands this process one call per step, and the sandbox delivers a call
only after the previous one has been answered: at step ``c`` the process has received
the availability and spot prices of step ``c`` and earlier, never later ones. Each
step advances every run that is under way by one tick, shows its strategy what the
published simulator shows (``_step(last_cluster_type, has_spot)`` with ``self.env``,
``self.task_done_time``, ...) and returns the strategy's proposals. The trusted side
replays the runs from those proposals alone; nothing computed here enters a cost.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from harness_support import load_candidate, seed_generators
from sky_spot import task as task_lib
from sky_spot.env import Env
from sky_spot.strategies.strategy import Strategy
from sky_spot.utils import ClusterType
from spot_model import MISSING, REGION_STRIDE, Job, Run, guarantee

TYPES = (ClusterType.NONE, ClusterType.SPOT, ClusterType.ON_DEMAND)
CODES = {id(t): i for i, t in enumerate(TYPES)}  # by identity: enum hashing is slow


class _Parser(argparse.ArgumentParser):
    """The options the published ``main.py`` defines, with this run's values; parses no
    command line."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        return super().parse_known_args([] if args is None else args, namespace)


def _parser(spec: dict[str, Any]) -> _Parser:
    parser = _Parser(add_help=False)
    parser.add_argument("--deadline-hours", type=float, default=float(spec["deadline_h"]))
    parser.add_argument("--task-duration-hours", type=float, nargs="+",
                        default=[float(spec["duration_h"])])
    parser.add_argument("--restart-overhead-hours", type=float, nargs="+",
                        default=[float(spec["overhead_h"])])
    parser.add_argument("--checkpoint-size-gb", type=float, default=50.0)
    parser.add_argument("--env", type=str, default="multi_trace" if len(spec["slots"]) > 1
                        else "trace")
    parser.add_argument("--output-dir", type=str, default="exp/")
    return parser


def strategy_class(module: Any) -> Any:
    """The first strategy class in ``dir()`` order, as the published ``main.py`` picks."""
    for name in dir(module):
        obj = getattr(module, name)
        if (isinstance(obj, type) and issubclass(obj, Strategy) and obj is not Strategy
                and obj.__name__ not in ("Strategy", "MultiRegionStrategy")):
            return obj
    raise AttributeError("the program defines no subclass of sky_spot Strategy")


class _Runner:
    """One run: the model's state, the strategy and what it sees."""

    def __init__(self, spec: dict[str, Any], cls: Any) -> None:
        self.spec = spec
        self.label = str(spec["label"])
        self.first_step = int(spec["first_step"])
        self.length = int(spec["length"])
        self.slots = [int(s) for s in spec["slots"]]
        regions = len(self.slots)
        self.job = Job(spec["duration_h"], spec["deadline_h"], spec["overhead_h"],
                       int(spec["gap_s"]), regions)
        self.run = Run(self.job)
        self.env = Env(int(spec["gap_s"]), regions)
        self.cls = cls
        self.strategy: Any = None
        self.over = False
        self.max_ticks = int(spec["max_ticks"])
        # Only strategies that define the published hook are shown the guaranteed request.
        self.hooked = cls._before_decision_hook is not Strategy._before_decision_hook

    def start(self, prices: tuple[float, ...]) -> None:
        self.strategy = self.cls._from_args(_parser(self.spec))
        task = task_lib.SingleTask({"duration": float(self.spec["duration_h"])})
        self.env._first_spot_prices = prices
        # The published simulate() resets the strategy twice before the first tick.
        self.strategy.reset(self.env, task)
        self.strategy.reset(self.env, task)

    def tick(self, bits: bytes, prices: list[float], step: int) -> int:
        t = step - self.first_step
        here = t < self.length
        slots = self.slots
        if len(slots) == 1:
            available: tuple[bool, ...] = (here and bits[slots[0]] == 1,)
            spot_prices: tuple[float, ...] = (prices[slots[0]],)
        else:
            available = tuple(here and bits[s] == 1 for s in slots)
            spot_prices = tuple(prices[s] for s in slots)
        if t == 0:
            self.start(spot_prices)
        run, env, strategy = self.run, self.env, self.strategy
        credit = run.observe(available)
        strategy.task_done_time.append(credit)
        strategy.remaining_restart_overhead = run.overhead_left
        env.tick = env.observed_tick = t
        env.cluster_type = TYPES[run.running_type]
        env.current_region = run.region
        env._available = available
        env._spot_prices = spot_prices
        last = TYPES[run.last]
        proposal = strategy._step(last, run.has_spot)
        code = CODES.get(id(proposal))
        if code is None:
            raise TypeError(f"_step returned {proposal!r}, not a ClusterType")
        region = env.current_region
        if type(region) is not int or not 0 <= region < len(slots):
            raise ValueError(f"current region {region!r} is not a region index")
        request = guarantee(self.job, t, run.done, run.last, run.overhead_left, code)
        if self.hooked:
            strategy._before_decision_hook(last, TYPES[request])
        run.apply(request, region, available, spot_prices)
        self.over = run.finished or t + 1 >= self.max_ticks
        return int(code + REGION_STRIDE * region)


_RUNNERS: list[_Runner] = []
_ACTIVE: list[tuple[int, _Runner]] = []  # (position, runner) of runs under way
_WAITING: list[tuple[int, _Runner]] = []  # not started yet, latest first step first


def setup(spec: dict[str, Any], seed: int) -> str:
    """Import the candidate and prepare the runs (no availability is known yet)."""
    seed_generators(seed)
    cls = strategy_class(load_candidate(__file__))
    _RUNNERS[:] = [_Runner(run, cls) for run in spec["runs"]]
    _ACTIVE.clear()
    _WAITING[:] = sorted(enumerate(_RUNNERS), key=lambda item: -item[1].first_step)
    return str(cls.__name__)


def step(index: int, bits: bytes, prices: list[float]) -> bytes:
    """Advance every run under way at step ``index``; one proposal code per run."""
    while _WAITING and _WAITING[-1][1].first_step <= index:
        _ACTIVE.append(_WAITING.pop())
    out = bytearray([MISSING]) * len(_RUNNERS)
    for i, runner in _ACTIVE:
        try:
            out[i] = runner.tick(bits, prices, index)
        except Exception as exc:  # noqa: BLE001 - raised again, naming the run and the tick
            raise RuntimeError(
                f"run {runner.label}, tick {index - runner.first_step}: "
                f"{type(exc).__name__}: {exc}"
            ).with_traceback(exc.__traceback__) from None
    _ACTIVE[:] = [item for item in _ACTIVE if not item[1].over]
    sys.stdout.flush()
    return bytes(out)
