"""One tuning study: an Optuna study over one program's literals, rebuilt from the store.

Optuna's in-memory study is a working copy. The store is the record: every trial is a
stored program (origin "tune", parent = the tuned program, ``metadata["tune"]`` = its
parameters and told values), and ``Study`` replays those into a fresh Optuna study
(``add_trial``) before asking for more, so a study cut short resumes where it stopped and
never evaluates a stored trial again. The tuned program itself enters as the first,
already-evaluated trial.

Objectives, all maximised: the combined score, or (``objectives: instances``) one per
instance the tuned program reports (``EvaluationResult.instances``, at least two; else
the score). Holdout scores never reach the sampler. An invalid trial is told a floor
below every value seen so far, so the sampler learns to leave that region.
"""

from __future__ import annotations

import math
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from evolve.config import PluginSpec
from evolve.database.records import ProgramRecord, new_id
from evolve.tunable import Parameter, SearchSpace
from evolve.tunable.folder import FolderSpace
from evolve.tunable.rules import Value
from evolve.tuning.samplers import build_sampler


@dataclass
class TrialPlan:
    """A trial asked for and not yet stored: its values written into the parent's code."""

    study: Study
    number: int  # 1-based, in the study's stored order (the tuned program is not counted)
    params: dict[str, Value]
    code: str
    program_id: str
    iteration: int
    trial: optuna.trial.Trial


def distribution(parameter: Parameter) -> BaseDistribution:
    d = parameter.domain
    if d.kind == "choice":
        return CategoricalDistribution(d.choices)
    assert d.low is not None and d.high is not None
    if d.kind == "int":
        return IntDistribution(int(d.low), int(d.high), log=d.log)
    return FloatDistribution(float(d.low), float(d.high), log=d.log)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def instance_keys(program: ProgramRecord) -> list[str]:
    """The instances a program reports with a finite score, in a fixed order."""
    return sorted(k for k, v in program.instances.items() if _finite(v) is not None)


class Study:
    """The Optuna study of one tuned program (see the module docstring)."""

    def __init__(
        self,
        parent: ProgramRecord,
        space: SearchSpace | FolderSpace,
        sampler: PluginSpec,
        objectives: str,
        trials: int,
        seed: int,
        stored: list[ProgramRecord],
    ) -> None:
        self.parent = parent
        self.space = space
        self.sampler_name = sampler.name
        self.trials = trials
        keys = instance_keys(parent) if objectives == "instances" else []
        self.keys = keys if len(keys) >= 2 else []
        self.distributions = {p.name: distribution(p) for p in space.parameters}
        # Another seed once trials are stored: a resumed study must not draw again the
        # random start-up points it drew before it was cut short.
        mixed = seed * 1_000_003 + zlib.crc32(parent.code.encode()) + len(stored)
        directions = [optuna.study.StudyDirection.MAXIMIZE] * max(1, len(self.keys))
        self.optuna = optuna.create_study(
            directions=directions, sampler=build_sampler(sampler, mixed % 2**32)
        )
        self.lowest = self._raw(parent)  # the floor for invalid trials sits below these
        self.stored = 0
        self.in_flight = 0
        self.best: ProgramRecord | None = None
        self._add(space.values(), self._raw(parent))
        for trial in stored:
            self.replay(trial)

    # ------------------------------------------------------------------ objectives

    def _raw(self, program: ProgramRecord) -> list[float | None]:
        """The program's objective values, None where it has none (invalid, missing)."""
        if not program.valid:
            return [None] * max(1, len(self.keys))
        if not self.keys:
            return [_finite(program.score)]
        return [_finite(program.instances.get(key)) for key in self.keys]

    def values_of(self, program: ProgramRecord) -> list[float]:
        """What the sampler is told for a trial: its values, a floor where it has none."""
        return self._told(self._raw(program))

    def _told(self, raw: list[float | None]) -> list[float]:
        told = []
        for value, low in zip(raw, self.lowest):
            if value is None:
                base = low if low is not None else 0.0
                value = base - max(1.0, abs(base))
            told.append(value)
        return told

    def _note(self, values: list[float]) -> None:
        self.lowest = [
            v if low is None else min(low, v) for v, low in zip(values, self.lowest)
        ]

    # ------------------------------------------------------------------ trials

    @property
    def asks_left(self) -> int:
        return self.trials - self.stored - self.in_flight

    @property
    def finished(self) -> bool:
        return self.stored >= self.trials

    def _add(self, params: dict[str, Value], raw: list[float | None]) -> None:
        """Tell Optuna about an evaluated point (the parent or a stored trial)."""
        checked: dict[str, Any] = {}
        for p in self.space.parameters:
            try:
                checked[p.name] = p.check(params.get(p.name))
            except ValueError:
                return  # outside today's space (e.g. an annotation excludes the parent's value)
        values = self._told(raw)
        self._note(values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optuna.add_trial(
                optuna.trial.create_trial(
                    params=checked, distributions=self.distributions, values=values
                )
            )

    def replay(self, trial: ProgramRecord) -> None:
        """Count a stored trial and tell Optuna what it found."""
        self.stored += 1
        self._keep_best(trial)
        meta = trial.metadata.get("tune")
        params = meta.get("params") if isinstance(meta, dict) else None
        if isinstance(params, dict):
            self._add(params, self._raw(trial))

    def ask(self, iteration: int) -> TrialPlan:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trial = self.optuna.ask(self.distributions)
        # What the code will say: floats as rounded when written, so a replay is exact.
        params = self.space.written({name: trial.params[name] for name in self.distributions})
        self.in_flight += 1
        number = self.stored + self.in_flight
        code = self.space.apply(params)
        return TrialPlan(self, number, params, code, new_id(), iteration, trial)

    def metadata(self, plan: TrialPlan, values: list[float]) -> dict[str, Any]:
        """What a stored trial keeps: enough to replay it and to read it later."""
        return {
            "study": self.parent.id,
            "trial": plan.number,
            "sampler": self.sampler_name,
            "params": dict(plan.params),
            "objectives": list(self.keys) or ["score"],
            "values": values,
        }

    def tell(self, plan: TrialPlan, program: ProgramRecord, values: list[float]) -> None:
        """The stored trial's values go to the sampler."""
        self.in_flight -= 1
        self.stored += 1
        self._keep_best(program)
        self._note(values)
        told: float | list[float] = values if len(values) > 1 else values[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optuna.tell(plan.trial, told)

    def abandon(self, plan: TrialPlan) -> None:
        """A trial that was never stored (cancelled): asked again later."""
        self.in_flight -= 1
        self.optuna.tell(plan.trial, state=optuna.trial.TrialState.FAIL)

    def _keep_best(self, trial: ProgramRecord) -> None:
        score = _finite(trial.score) if trial.valid else None
        best = self.best.score if self.best is not None else None
        if score is not None and (best is None or score > best):
            self.best = trial
