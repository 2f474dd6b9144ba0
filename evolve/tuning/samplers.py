"""Optuna samplers by name: the optimizers that choose each trial's parameter values.

``search.tune.sampler`` names one (``{name: cmaes, args: {sigma0: 0.2}}``): a registered
name, an entry point of the ``evolve.tune_samplers`` group, or ``package.module:attr``.
A factory is called as ``factory(seed=seed, **args)`` and must return an
``optuna.samplers.BaseSampler``; ``args`` are checked against its signature first.

Built in: ``tpe`` (Optuna's default, any space), ``cmaes`` (continuous and integer spaces;
choices are sampled at random beside it; one objective only), ``random``, ``nsga2`` and
``nsga3`` (genetic, made for several objectives). ``check_sampler`` builds the sampler
and runs a few trials of a small study with the number of objectives the run will use,
so a sampler that cannot serve it is refused before anything is stored.
"""

from __future__ import annotations

import warnings
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from evolve.config import PluginSpec
from evolve.errors import UserError
from evolve.registry import Registry

optuna.logging.set_verbosity(optuna.logging.ERROR)  # trials are reported by evolve itself

SAMPLERS: Registry[optuna.samplers.BaseSampler] = Registry(
    "tuning sampler", entry_point_group="evolve.tune_samplers"
)
SAMPLERS.register("tpe", "optuna.samplers:TPESampler")
SAMPLERS.register("cmaes", "optuna.samplers:CmaEsSampler")
SAMPLERS.register("random", "optuna.samplers:RandomSampler")
SAMPLERS.register("nsga2", "optuna.samplers:NSGAIISampler")
SAMPLERS.register("nsga3", "optuna.samplers:NSGAIIISampler")

WHERE = "search.tune.sampler"


def build_sampler(spec: PluginSpec, seed: int, where: str = WHERE) -> optuna.samplers.BaseSampler:
    """The sampler ``spec`` names, seeded; UserError naming ``where`` when it cannot be."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning on some arguments
        sampler = SAMPLERS.create(spec.name, spec.args, where, seed=seed)
    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise SAMPLERS.wrong_type(spec.name, "optuna.samplers.BaseSampler", where)
    return sampler


def check_sampler(spec: PluginSpec, objectives: int, where: str = WHERE) -> None:
    """Build the sampler and run a few trials of a small study with ``objectives``
    objectives over an int, a log-float and a choice parameter."""
    space: dict[str, Any] = {
        "count": IntDistribution(1, 16, log=True),
        "rate": FloatDistribution(0.01, 1.0, log=True),
        "mode": CategoricalDistribution(("a", "b")),
    }
    sampler = build_sampler(spec, seed=0, where=where)
    study = optuna.create_study(
        directions=[optuna.study.StudyDirection.MAXIMIZE] * objectives, sampler=sampler
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                trial = study.ask(space)
                value = float(trial.params["rate"])
                study.tell(trial, [value] * objectives if objectives > 1 else value)
    except Exception as exc:  # noqa: BLE001  (whatever the sampler raises, said in one line)
        what = f"{objectives} objectives" if objectives > 1 else "one objective"
        raise UserError(
            f"sampler '{spec.name}' cannot run a study with {what} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''})",
            f"{where}.name",
        ) from None
