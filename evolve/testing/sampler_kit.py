"""Conformance suite for tuning samplers: every shipped sampler's test inherits it.

    from evolve.testing.sampler_kit import SamplerConformance

    class TestMySampler(SamplerConformance):
        sampler = "mypkg.tuning:MySampler"     # registry name or module:attr
        args = {"population_size": 8}          # its own settings
        multi_objective = True                 # whether it serves several objectives

The rules a sampler keeps (``evolve.tuning.samplers``): built as ``factory(seed=seed,
**args)`` it is an Optuna ``BaseSampler``; it proposes values inside every distribution
evolve uses (log and linear ints and floats, choices); the same seed gives the same
proposals; it learns from trials added with ``add_trial`` (how a resumed study is
rebuilt from the store); and it serves several objectives if it says so, or is refused
with a ``UserError`` before a run starts if it does not.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from evolve.config import PluginSpec
from evolve.errors import UserError
from evolve.tuning.samplers import build_sampler, check_sampler

SPACE: dict[str, Any] = {
    "count": IntDistribution(2, 64, log=True),
    "offset": IntDistribution(-12, -1),
    "rate": FloatDistribution(1e-4, 1e-1, log=True),
    "weight": FloatDistribution(-2.0, 2.0),
    "mode": CategoricalDistribution(("greedy", "random", None, True)),
}


def objective(params: dict[str, Any]) -> float:
    return -abs(float(params["weight"]) - 0.5) - abs(int(params["offset"]) + 4) / 10.0


class SamplerConformance:
    """Set ``sampler`` (and ``args``, ``multi_objective``) in the subclass."""

    sampler: ClassVar[str] = ""
    args: ClassVar[dict[str, Any]] = {}
    multi_objective: ClassVar[bool] = False
    trials: ClassVar[int] = 12

    def spec(self) -> PluginSpec:
        return PluginSpec(self.sampler, dict(self.args))

    def run_study(self, seed: int, objectives: int = 1) -> optuna.Study:
        directions = [optuna.study.StudyDirection.MAXIMIZE] * objectives
        study = optuna.create_study(directions=directions, sampler=build_sampler(self.spec(), seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(self.trials):
                trial = study.ask(SPACE)
                value = objective(trial.params)
                study.tell(trial, [value] * objectives if objectives > 1 else value)
        return study

    def test_it_builds_an_optuna_sampler(self) -> None:
        assert isinstance(build_sampler(self.spec(), seed=0), optuna.samplers.BaseSampler)

    def test_proposals_stay_inside_every_distribution(self) -> None:
        for trial in self.run_study(seed=1).trials:
            for name, dist in SPACE.items():
                value = trial.params[name]
                inside = dist._contains(dist.to_internal_repr(value))
                assert inside, f"{name}={value!r} outside {dist}"
                if isinstance(dist, IntDistribution):
                    assert isinstance(value, int) and not isinstance(value, bool)

    def test_the_same_seed_gives_the_same_proposals(self) -> None:
        first = [t.params for t in self.run_study(seed=7).trials]
        again = [t.params for t in self.run_study(seed=7).trials]
        assert first == again

    def test_it_learns_from_added_trials(self) -> None:
        """A resumed study is rebuilt with add_trial; the sampler must accept those."""
        study = self.run_study(seed=3)
        rebuilt = optuna.create_study(
            directions=[optuna.study.StudyDirection.MAXIMIZE],
            sampler=build_sampler(self.spec(), seed=4),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for trial in study.trials:
                rebuilt.add_trial(optuna.trial.create_trial(
                    params=trial.params, distributions=SPACE, value=trial.value))
            asked = rebuilt.ask(SPACE)
        assert len(rebuilt.trials) == len(study.trials) + 1
        assert set(asked.params) == set(SPACE)

    def test_several_objectives_are_served_or_refused_up_front(self) -> None:
        if self.multi_objective:
            check_sampler(self.spec(), objectives=3)
            assert len(self.run_study(seed=2, objectives=3).best_trials) >= 1
        else:
            with pytest.raises(UserError) as caught:
                check_sampler(self.spec(), objectives=3)
            assert caught.value.where.endswith(".name")
        check_sampler(self.spec(), objectives=1)
