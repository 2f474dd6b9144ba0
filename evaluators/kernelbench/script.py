"""The calls one sandbox process receives: the same script for the candidate and the
reference (and the calibration model), so their answers can be compared call by call.

Per shape: ``load``; then the correctness phase (every call inspected): new inputs,
the same inputs again (determinism), inputs refilled in place with new values
(``trials - 1`` times), new inputs; then the timed phase: ``warmup + repeat`` calls,
each on inputs from a fresh key, a secret share of them inspected after answering;
then ``settle``. Every key comes from the operating system's random source, so neither
the candidate nor public code can know an input, or a sums key, before its call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from evolve.evaluation.sandbox import CandidateCall

_RANDOM = random.SystemRandom()
# Names of the files a sandbox process gets (besides harness.py, kb_inputs.py, kb_sums.py).
CANDIDATE_FILE = "model_new.py"
REFERENCE_FILE = "reference_model.py"
CALIBRATION_FILE = "calibration_model.py"


def new_key() -> int:
    return _RANDOM.getrandbits(62)


def shape_label(shape: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in shape.items()) or "default"


@dataclass
class Step:
    """One forward call and what belongs to it."""

    mode: str  # "check-new" | "check" | "timed"
    value_set: int
    warmup: bool = False
    forward_at: int = -1  # index of the forward call
    inspect_at: int = -1  # index of the inspect call after it (-1: not inspected)
    sums_at: int = -1  # index of the call that answers with this output's secret sums


@dataclass
class ShapeScript:
    label: str
    shape: dict[str, Any]
    load_at: int
    steps: list[Step] = field(default_factory=list)


@dataclass
class Program:
    """What a process loads: the model file and class, compiled or not, and (for the
    calibration model) its own init arguments per shape label."""

    model_file: str
    class_name: str
    compile_model: bool = False
    init_args: dict[str, list[Any]] | None = None


class Script:
    """Calls for every shape; ``calls(program, ...)`` fills in the ``load`` calls."""

    def __init__(self, inspect_limit: int) -> None:
        self.inspect_limit = inspect_limit
        self.shapes: list[ShapeScript] = []
        self._calls: list[tuple[str, tuple[Any, ...]]] = []

    def add_shape(self, label: str, shape: dict[str, Any], trials: int, timed: int,
                  warmup: int, inspect_share: float) -> ShapeScript:
        """Add one shape: a correctness phase when ``trials`` > 0, then ``warmup +
        timed`` timed calls of which ``inspect_share`` (at least one) are inspected."""
        script = ShapeScript(label, dict(shape), len(self._calls))
        self._calls.append(("load", (label,)))
        steps: list[Step] = []
        if trials > 0:
            steps.append(Step("check-new", 0))
            steps += [Step("check", i) for i in [0, *range(1, trials)]]
            steps.append(Step("check-new", trials))
            for step in steps:
                step.inspect_at = 0
        if timed > 0:
            total = warmup + timed
            chosen = set(_RANDOM.sample(range(total), max(1, round(inspect_share * total))))
            base = trials + 1 if trials > 0 else 0
            for n in range(total):
                steps.append(Step("timed", base + n, warmup=n < warmup,
                                  inspect_at=0 if n in chosen else -1))
        keys = {step.value_set: new_key() for step in steps}
        previous_key: int | None = None
        for step in steps:
            step.forward_at = len(self._calls)
            if script.steps:
                script.steps[-1].sums_at = step.forward_at
            secret = new_key()
            self._calls.append(("forward", (keys[step.value_set], new_key(), previous_key,
                                            step.mode)))
            previous_key = secret
            if step.inspect_at == 0:
                step.inspect_at = len(self._calls)
                self._calls.append(("inspect", (new_key(), self.inspect_limit)))
            script.steps.append(step)
        if script.steps:
            script.steps[-1].sums_at = len(self._calls)
            self._calls.append(("settle", (previous_key,)))
        self.shapes.append(script)
        return script

    @property
    def call_count(self) -> int:
        return len(self._calls)

    def calls(self, program: Program, init_seed: int, device: str) -> list[CandidateCall]:
        shapes = {s.load_at: s for s in self.shapes}
        out = []
        for index, (function, args) in enumerate(self._calls):
            if function == "load":
                shape = shapes[index]
                init = program.init_args.get(shape.label) if program.init_args else None
                args = (program.model_file, program.class_name, shape.shape, init_seed, device,
                        program.compile_model, init)
            out.append(CandidateCall(function, args))
        return out


REFERENCE = Program(REFERENCE_FILE, "Model")
