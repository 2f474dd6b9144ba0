"""Autotuning: a black-box optimizer (Optuna) tunes the literals of evolved programs.

The LLM proposes structure; a sampler tunes its constants. The search space of a
program comes from its source (``evolve.tunable``); each trial is an ordinary program
(origin "tune", parent = the tuned program), evaluated by the run's executor and stored
like any other; the store is the durable record and the Optuna study is rebuilt from it.

- ``samplers``: the registry of Optuna samplers (``search.tune.sampler``);
- ``study``: one program's study, replayed from its stored trials;
- ``scheduler``: which programs are tuned, and the next trial, for the loop
  (``search.tune``) and for ``evolve tune``.
"""

from __future__ import annotations

from evolve.tuning.samplers import SAMPLERS, build_sampler, check_sampler
from evolve.tuning.scheduler import TARGETS, Evaluate, Tuner, TuneRequest, build_tuner, tuner_for
from evolve.tuning.study import Study, TrialPlan

__all__ = [
    "SAMPLERS",
    "Evaluate",
    "TARGETS",
    "Study",
    "TrialPlan",
    "TuneRequest",
    "Tuner",
    "build_sampler",
    "build_tuner",
    "check_sampler",
    "tuner_for",
]
