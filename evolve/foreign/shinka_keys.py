"""ShinkaEvolve's ``EvolutionConfig`` (the ``evo`` namespace) mapped onto ours, and the
reasons given for the keys of every namespace that have no equivalent."""

from __future__ import annotations

from typing import Any

from evolve.errors import UserError
from evolve.foreign.mapping import ForeignConfig
from evolve.foreign.programs import openai_model

DESCRIPTION = ("Improve the program inside the EVOLVE-BLOCK so that the evaluator scores it "
               "higher (its combined_score), keeping it correct.")
_SANDBOX = "no equivalent: evaluations run in evolve's sandbox on this machine"
_SELECTION = "no equivalent (evolve's parent selection: database.parent_selection)"
_ISLANDS = "no equivalent (islands are fixed: database.num_islands)"
_PROMPT_EVOLUTION = "no equivalent: evolve does not evolve its prompts"
_SCHEDULING = "no equivalent: llm.concurrency and evaluation.workers set the parallelism"
_WANDB = "no equivalent (the run database and `evolve report` keep the record)"
REASONS: dict[str, str] = {
    **{f"{ns}.{key}": reason for ns in ("evo", "evo_config") for key, reason in {
        "job_type": _SANDBOX,
        "results_dir": "no equivalent: runs go to --out (default runs/)",
        "language": "evolve evolves the initial program as Python",
        "max_patch_resamples": "no equivalent (search.retry_failed_edit asks again once)",
        "meta_llm_models": "no equivalent (the scratchpad is written by the first of llm.models)",
        "meta_llm_kwargs": "no equivalent (the scratchpad uses llm.temperature)",
        "sample_single_meta_rec": "no equivalent (one recommendation is shown per prompt)",
        "novelty_llm_kwargs": "no equivalent (the novelty judge uses llm.temperature)",
        "inspiration_sort_order": "no equivalent",
        "enable_controlled_oversubscription": _SCHEDULING,
        "proposal_target_mode": _SCHEDULING,
        "proposal_target_min_samples": _SCHEDULING,
        "proposal_target_ratio_cap": _SCHEDULING,
        "proposal_buffer_max": _SCHEDULING,
        "proposal_target_hard_cap": _SCHEDULING,
        "proposal_target_ewma_alpha": _SCHEDULING,
        "evolve_prompts": _PROMPT_EVOLUTION,
        "prompt_patch_types": _PROMPT_EVOLUTION,
        "prompt_patch_type_probs": _PROMPT_EVOLUTION,
        "prompt_evolution_interval": _PROMPT_EVOLUTION,
        "prompt_archive_size": _PROMPT_EVOLUTION,
        "prompt_llm_models": _PROMPT_EVOLUTION,
        "prompt_llm_kwargs": _PROMPT_EVOLUTION,
        "prompt_ucb_exploration_constant": _PROMPT_EVOLUTION,
        "prompt_epsilon": _PROMPT_EVOLUTION,
        "prompt_evo_top_k_programs": _PROMPT_EVOLUTION,
        "prompt_percentile_recompute_interval": _PROMPT_EVOLUTION,
        **dict.fromkeys((
            "enable_wandb_logging", "wandb_project", "wandb_entity", "wandb_group", "wandb_name",
            "wandb_mode", "wandb_tags", "wandb_notes", "wandb_dir", "wandb_run_id",
            "wandb_resume", "wandb_config"), _WANDB),
    }.items()},
    **{f"{ns}.{key}": reason for ns in ("db", "db_config") for key, reason in {
        "db_path": "no equivalent: each run has its database in its run folder",
        "max_stdout_log_chars": "no equivalent (stderr of failed runs is kept, capped)",
        "elite_selection_ratio": "no equivalent (inspirations: database.num_top_inspirations "
                                 "and num_diverse_inspirations)",
        "island_elitism": _ISLANDS, "enforce_island_separation": _ISLANDS,
        "island_selection_strategy": "no equivalent (islands take turns)",
        "enable_dynamic_islands": _ISLANDS, "stagnation_threshold": _ISLANDS,
        "island_spawn_strategy": _ISLANDS, "island_spawn_subtree_size": _ISLANDS,
        "parent_selection_strategy": _SELECTION, "exploitation_alpha": _SELECTION,
        "exploitation_ratio": _SELECTION, "parent_selection_lambda": _SELECTION,
        "num_beams": _SELECTION,
        "archive_selection_strategy": "no equivalent (the elite archive keeps the best scores)",
        "archive_criteria": "no equivalent (the elite archive keeps the best scores)",
    }.items()},
    "job": _SANDBOX, "job_config": _SANDBOX,
    "max_db_workers": "no equivalent (one database writer)",
    "verbose": "no equivalent (progress is always printed)",
    "debug": "no equivalent",
}
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "text-", "davinci")


def model_entry(config: ForeignConfig, where: str, name: Any) -> dict[str, Any]:
    """``local/NAME@URL`` is a local OpenAI-compatible server; a name with a provider
    prefix (``openrouter/...``) goes through LiteLLM; any other name is sent as it is to
    an OpenAI-compatible server."""
    if not isinstance(name, str) or not name:
        raise UserError(f"expected a model name, got {name!r}", f"{config.name}: {where}")
    if name.startswith("local/") and "@" in name:
        model, _, url = name[len("local/"):].partition("@")
        return openai_model(model, 1.0, url, None)
    if "/" in name:
        return {"name": name, "provider": "litellm", "weight": 1.0}
    if not name.startswith(_OPENAI_PREFIXES):
        config.note(where, f"'{name}' is sent to an OpenAI-compatible server under this name; "
                           "for another provider give llm.models[].provider: litellm (with "
                           "LiteLLM's spelling of the name) or a base_url")
    return openai_model(name, 1.0, None, None)


def _map_llm(config: ForeignConfig, ns: str, data: dict[str, Any]) -> None:
    llm: dict[str, Any] = data.setdefault("llm", {})
    names = config.get(f"{ns}.llm_models", "a list")
    if names is not None:
        llm["models"] = [model_entry(config, f"{ns}.llm_models[{i}]", n)
                         for i, n in enumerate(names)]
    kwargs = config.get(f"{ns}.llm_kwargs", "a mapping", {})
    temperatures = kwargs.get("temperatures", kwargs.get("temperature"))
    if isinstance(temperatures, (int, float)) and not isinstance(temperatures, bool):
        llm["temperature"] = float(temperatures)
    elif isinstance(temperatures, list) and temperatures:
        llm["temperature"] = sum(float(t) for t in temperatures) / len(temperatures)
        if len(set(temperatures)) > 1:
            config.note(f"{ns}.llm_kwargs.temperatures", "evolve uses one temperature per "
                        f"model: took the mean ({llm['temperature']:g})")
    if isinstance(kwargs.get("max_tokens"), int):
        llm["max_tokens"] = kwargs["max_tokens"]
    for key in sorted(set(kwargs) - {"temperatures", "temperature", "max_tokens"}):
        config.note(f"{ns}.llm_kwargs.{key}", "no equivalent; ignored")
    selection = config.get(f"{ns}.llm_dynamic_selection", "text")
    if selection in ("ucb", "ucb1"):
        llm["selection"] = "ucb"
    elif selection is not None and selection not in ("fixed", "none"):
        config.note(f"{ns}.llm_dynamic_selection", f"'{selection}' has no equivalent; "
                                                   "models are picked by weight")
    bandit = config.get(f"{ns}.llm_dynamic_selection_kwargs", "a mapping", {})
    for theirs, ours in (("exploration_coef", "exploration"), ("cost_aware_coef", "cost_weight")):
        if isinstance(bandit.get(theirs), (int, float)):
            llm.setdefault("bandit", {})[ours] = float(bandit[theirs])
    for key in sorted(set(bandit) - {"exploration_coef", "cost_aware_coef"}):
        config.note(f"{ns}.llm_dynamic_selection_kwargs.{key}", "no equivalent; ignored")


def _map_patches(config: ForeignConfig, ns: str, data: dict[str, Any]) -> None:
    types = config.get(f"{ns}.patch_types", "a list")
    probs = config.get(f"{ns}.patch_type_probs", "a list")
    if types is None:
        return
    if probs is None or len(probs) != len(types):
        probs = [1.0] * len(types)
    share = dict(zip(types, (float(p) for p in probs)))
    if "cross" in share:
        config.note(f"{ns}.patch_types", "'cross' (an LLM crossover of two programs) has no "
                                         "equivalent; its share goes to the other kinds")
    diff, full = share.get("diff", 0.0), share.get("full", 0.0)
    prompt: dict[str, Any] = data.setdefault("prompt", {})
    if diff <= 0 < full:
        prompt["mode"] = "rewrite"
    elif full > 0:
        prompt["mode"] = "diff"
        prompt["rewrite_every"] = max(1, round((diff + full) / full))
    else:
        prompt["mode"] = "diff"


def _map_search(config: ForeignConfig, ns: str, data: dict[str, Any]) -> None:
    search: dict[str, Any] = data.setdefault("search", {})
    attempts = config.get(f"{ns}.max_patch_attempts", "an integer")
    if attempts is not None and attempts > 1:
        search["retry_failed_edit"] = True
        config.note(f"{ns}.max_patch_attempts", "a failed edit is asked for again once "
                                                "(search.retry_failed_edit)")
    interval = config.get(f"{ns}.meta_rec_interval", "an integer")
    recommendations = config.get(f"{ns}.meta_max_recommendations", "an integer")
    if interval is not None:
        pad = {"enabled": True, "every": interval}
        if recommendations is not None:
            pad["recommendations"] = recommendations
        search["scratchpad"] = pad
    embedding = config.get(f"{ns}.embedding_model", "text")
    threshold = config.get(f"{ns}.code_embed_sim_threshold", "a number", 0.99)
    attempts = config.get(f"{ns}.max_novelty_attempts", "an integer")
    judges = config.get(f"{ns}.novelty_llm_models", "a list")
    if embedding:
        model = model_entry(config, f"{ns}.embedding_model", embedding)
        embedding_at = {"model": model["name"]}
        if "base_url" in model:
            embedding_at["base_url"] = model["base_url"]
        novelty: dict[str, Any] = {"enabled": True, "threshold": min(1.0, threshold),
                                   "embedding": embedding_at}
        if attempts is not None:
            novelty["max_resamples"] = attempts
        if judges:
            novelty["llm_judge"] = True
            config.note(f"{ns}.novelty_llm_models", "the novelty judge is the first of "
                                                    "llm.models")
        search["novelty"] = novelty


def map_evo(config: ForeignConfig, ns: str, data: dict[str, Any]) -> str:
    """Maps the ``evo`` namespace into ``data``; returns the description."""
    message = config.get(f"{ns}.task_sys_msg", "text")
    generations = config.get(f"{ns}.num_generations", "an integer")
    if generations is not None:
        data.setdefault("budget", {})["iterations"] = generations
    usd = config.get(f"{ns}.max_api_costs", "a number")
    if usd is not None:
        data.setdefault("budget", {})["usd"] = usd
    feedback = config.get(f"{ns}.use_text_feedback", "true or false")
    if feedback is not None:
        data.setdefault("prompt", {})["include_artifacts"] = feedback
    initial = config.get(f"{ns}.init_program_path", "text")
    if initial is not None:
        data["initial_program"] = initial
    language = config.get(f"{ns}.language", "text")
    if language not in (None, "python"):
        config.note(f"{ns}.language", f"'{language}': evolve evolves the initial program as "
                                      "Python")
    _map_llm(config, ns, data)
    _map_patches(config, ns, data)
    _map_search(config, ns, data)
    return message if message and message.strip() else DESCRIPTION
