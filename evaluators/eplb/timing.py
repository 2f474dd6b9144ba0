"""Speed of a candidate balancer relative to a reference, measured by the trusted side.

Every number here comes from the sandbox zygote's clock, which times each call from
handing the request to the child to receiving its complete answer; nothing is measured
or reported by code in the candidate's process. The reference balancer (by default the
problem's initial program, DeepSeek's policy) runs through the same harness, in its
own sandbox process under the same limits, and the two alternate process by process,
so machine load moves both alike and the ratio means the same on every machine.

In a timing process every call gets a different window, in a secret order, so
remembering earlier answers does not help; every call's answer is checked against the
answer a fresh process gave for the same window, so the candidate cannot tell a timed
call from a checked one and has no call whose answer it may skip. The first call of
each process warms up (lazy initialisation) on a window that is not otherwise used; its
time is dropped.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evolve.evaluation.sandbox import CandidateCall, SandboxResult

Run = Callable[[bytes, list[CandidateCall], str], SandboxResult]


@dataclass
class Timing:
    candidate_ms: float
    reference_ms: float

    @property
    def speedup(self) -> float:
        return self.reference_ms / self.candidate_ms if self.candidate_ms > 0 else math.inf


class OutputMismatch(Exception):
    """A timed call answered differently from a fresh process on the same window."""

    def __init__(self, window: int) -> None:
        super().__init__(window)
        self.window = window


def measure(run: Run, candidate: bytes, reference: bytes, call: Callable[[int], CandidateCall],
            expected: Sequence[Any], warmup_window: int, rounds: int, seed: int,
            same: Callable[[Any, Any], bool]) -> Timing:
    """Median ms per call of candidate and reference over ``rounds`` alternating pairs
    of processes. ``expected[i]`` is the fresh-process answer for window ``i``."""
    order = list(range(len(expected)))
    random.Random(seed).shuffle(order)
    calls = [call(warmup_window), *(call(i) for i in order)]
    times: dict[str, list[float]] = {"candidate": [], "reference": []}
    for number in range(rounds):
        pair = [("reference", reference), ("candidate", candidate)]
        for label, code in pair if number % 2 == 0 else pair[::-1]:
            result = run(code, calls, f"timing run {number + 1} ({label})")
            outcomes = result.calls[1:]
            if label == "candidate":
                for window, outcome in zip(order, outcomes):
                    if not same(outcome.value, expected[window]):
                        raise OutputMismatch(window)
            times[label] += [t for outcome in outcomes for t in outcome.times_s]
    return Timing(statistics.median(times["candidate"]) * 1e3,
                  statistics.median(times["reference"]) * 1e3)


def speed_term(speedup: float, target: float, step: float) -> tuple[float, float]:
    """(quantised term, raw term): ``min(1, speedup / target)`` to the nearest ``step``.

    Rounding to the nearest step (not down) keeps a program that is as fast as the
    reference (speedup about 1) in the middle of its step, so timing noise does not
    move it; two evaluations of one program differ by at most one step.
    """
    raw = min(1.0, speedup / target) if math.isfinite(speedup) else 1.0
    if step <= 0:
        return raw, raw
    return min(1.0, round(raw / step) * step), raw
