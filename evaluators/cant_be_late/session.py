"""Run a spot-scheduling candidate on a schedule of runs, then replay it on the trusted side.

One sandbox child per schedule. Call 0 (``setup``) carries the runs' parameters and
no availability; call ``1 + c`` carries the availability and spot prices of step ``c``
(``Schedule.step_inputs``) and answers with one proposal per run. The sandbox hands
the child a call only once the previous one is answered, so a step's answer cannot
depend on any later step. The proposals alone then go through
``simulators.cant_be_late.replay``, which applies the guarantee, safety, overheads,
progress and billing itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluators.harnessed import CandidateFault, run_harnessed
from evolve.evaluation.sandbox import CandidateCall, SandboxLimits
from evolve.evaluation.types import EvaluationContext
from simulators.cant_be_late import MISSING, Outcome, Schedule, replay
from simulators.cant_be_late import model as spot_model
from simulators.cant_be_late.model import TYPE_NAMES, decode

HERE = Path(__file__).parent
DRIVER = HERE / "driver.py"
SHIM = HERE / "shim"


def _shipped() -> dict[str, bytes]:
    files = {"spot_model.py": Path(spot_model.__file__).read_bytes()}
    for path in sorted(SHIM.rglob("*.py")):
        name = path.relative_to(SHIM).as_posix()
        if name != "__init__.py":  # the shim folder is a package only for installs
            files[name] = path.read_bytes()
    return files


SHIPPED = _shipped()


def decision_log(schedule: Schedule, answers: list[object]) -> np.ndarray:
    """[runs, ticks] proposal codes in each run's own ticks, from the per-step answers."""
    runs = len(schedule.runs)
    ticks = max(r.max_ticks() for r in schedule.runs)
    by_step = np.full((schedule.steps, runs), MISSING, dtype=np.uint8)
    for step, value in enumerate(answers):
        if not isinstance(value, bytes) or len(value) != runs:
            raise CandidateFault(f"step {step}: the driver's answer is not {runs} decision bytes")
        by_step[step] = np.frombuffer(value, dtype=np.uint8)
    log = np.full((runs, ticks), MISSING, dtype=np.uint8)
    for i, first in enumerate(schedule.first_step):
        part = by_step[first: first + ticks, i]
        log[i, : len(part)] = part
    return log


def run_schedule(
    schedule: Schedule,
    candidate: Path,
    context: EvaluationContext,
    memory_mb: int,
    what: str,
) -> tuple[Outcome, float]:
    """The candidate's trusted outcome on every run of ``schedule`` and the seconds its
    calls took (the sandbox's clock); CandidateFault if it fails, proposes something
    unusable or leaves a run unfinished."""
    calls = [CandidateCall("setup", (schedule.driver_setup(), int(context.seed)))]
    calls += [CandidateCall("step", (c, *schedule.step_inputs(c))) for c in range(schedule.steps)]
    limits = SandboxLimits(timeout_s=context.timeout_s, memory_mb=memory_mb)
    result = run_harnessed(context, DRIVER, candidate, calls, limits, SHIPPED, what)
    log = decision_log(schedule, [call.value for call in result.calls[1:]])
    outcome = replay([r.model_job() for r in schedule.runs], schedule.run_available(),
                     schedule.run_prices(), log)
    if outcome.first_bad is not None:
        run, tick, code = outcome.first_bad
        label = schedule.runs[run].label
        if code == MISSING:
            raise CandidateFault(
                f"{what}: run {label}: no decision at tick {tick}, before the job was done "
                "(the strategy's process stopped the run early: was the driver's state changed?)"
            )
        kind, region = decode(code)
        raise CandidateFault(
            f"{what}: run {label}, tick {tick}: region {region} does not exist "
            f"({len(schedule.runs[run].sources)} regions; proposal {TYPE_NAMES[kind]})"
        )
    unfinished = np.flatnonzero(~outcome.finished)
    if len(unfinished):
        spec = schedule.runs[int(unfinished[0])]
        raise CandidateFault(f"{what}: run {spec.label} is not finished after "
                             f"{spec.max_ticks()} ticks")
    return outcome, float(sum(sum(call.times_s) for call in result.calls))
