"""Every shipped tuning sampler passes the conformance kit; wrong names and args are one line."""

from __future__ import annotations

import pytest

from evolve.config import PluginSpec, load_config
from evolve.errors import UserError
from evolve.plugins import check_plugins
from evolve.testing.sampler_kit import SamplerConformance
from evolve.tuning import SAMPLERS, build_sampler


class TestTPE(SamplerConformance):
    sampler = "tpe"
    multi_objective = True


class TestTPEWithArgs(SamplerConformance):
    sampler = "tpe"
    args = {"n_startup_trials": 4, "multivariate": True}
    multi_objective = True


class TestCmaEs(SamplerConformance):
    sampler = "cmaes"
    args = {"n_startup_trials": 3}


class TestRandom(SamplerConformance):
    sampler = "random"
    multi_objective = True


class TestNSGA2(SamplerConformance):
    sampler = "nsga2"
    args = {"population_size": 4}
    multi_objective = True


class TestNSGA3(SamplerConformance):
    sampler = "nsga3"
    args = {"population_size": 4}
    multi_objective = True


class TestByImportPath(SamplerConformance):
    sampler = "optuna.samplers:RandomSampler"
    multi_objective = True


def test_the_registry_lists_the_shipped_samplers() -> None:
    assert {"tpe", "cmaes", "random", "nsga2", "nsga3"} <= set(SAMPLERS.names())


def test_an_unknown_sampler_or_argument_names_the_key() -> None:
    with pytest.raises(UserError, match="unknown tuning sampler 'tpee'.*did you mean") as caught:
        build_sampler(PluginSpec("tpee"), seed=0)
    assert caught.value.where == "search.tune.sampler.name"
    with pytest.raises(UserError, match="unknown argument 'sigma'") as caught:
        build_sampler(PluginSpec("cmaes", {"sigma": 0.1}), seed=0)
    assert caught.value.where == "search.tune.sampler.args.sigma"


def test_check_plugins_checks_the_sampler_when_tuning_is_on() -> None:
    base = ["search.tune.enabled=true", "search.tune.objectives=instances"]
    with pytest.raises(UserError, match="cannot run a study with 2 objectives") as caught:
        check_plugins(load_config(None, overrides=[*base, "search.tune.sampler.name=cmaes"]))
    assert caught.value.where == "search.tune.sampler.name"
    check_plugins(load_config(None, overrides=[*base, "search.tune.sampler.name=nsga2"]))
    # off: not built at all
    check_plugins(load_config(None, overrides=["search.tune.sampler.name=nope"]))
