"""Check every plug-in a config names before a run starts (no plug-in is built here).

Each plug-in is resolved through its registry and its ``args`` are checked against its
factory's signature, so a typo is one line naming the key, before a run folder exists.
"""

from __future__ import annotations

from evolve.config import Config
from evolve.evaluation.executor import EXECUTORS
from evolve.llm import BACKENDS
from evolve.search.hooks import SEARCH_HOOKS
from evolve.search.selectors import PARENT_SELECTORS
from evolve.tuning.samplers import check_sampler


def check_plugins(cfg: Config) -> None:
    """UserError naming the key of the first unknown plug-in or argument."""
    for index, model in enumerate(cfg.llm.models):
        BACKENDS.check(
            model.provider,
            model.args,
            f"llm.models[{index}]",
            "provider",
            reserved=("model", "llm", "where", "rng"),
        )
    EXECUTORS.check(
        cfg.evaluation.executor, cfg.evaluation.args, "evaluation", "executor", reserved=("cfg",)
    )
    for index, spec in enumerate(cfg.database.parent_selection):
        PARENT_SELECTORS.check(spec.name, spec.args, f"database.parent_selection[{index}]")
    for index, hook in enumerate(cfg.search.hooks):
        SEARCH_HOOKS.check(hook.name, hook.args, f"search.hooks[{index}]", reserved=("services",))
    tune = cfg.search.tune
    if tune.enabled:  # built and run on a small study with the objectives it must serve
        check_sampler(tune.sampler, 2 if tune.objectives == "instances" else 1)
