"""``evolve config init``: the default run config as commented YAML, generated from the schema."""

from __future__ import annotations

import dataclasses
from typing import Any

import yaml

from evolve.config import Config

# Comments for the keys a run config usually sets; problem keys live in problem.yaml.
COMMENTS: dict[str, str] = {
    "seed": "seed for parent sampling, the offline engine and the ensemble (evaluators get it too)",
    "out": "folder that holds run folders",
    "llm": "models to ask for edits; no models = the offline mutation engine (no API key needed)",
    "llm.models": (
        "e.g. [{name: gpt-4.1-mini, weight: 0.8}, {name: gpt-4.1, weight: 0.2}];"
        " keys: name, provider (openai|litellm|offline|module:attr), base_url, api_key_env, weight,"
        " price_in_per_mtok, price_out_per_mtok, temperature"
    ),
    "llm.retries": "retries after the first attempt (the only retry layer)",
    "llm.backoff_s": "first backoff; doubles per retry, Retry-After honoured",
    "llm.concurrency": "LLM calls in flight at once",
    "llm.transcripts": "every call's prompt and raw answer, compressed in the run's database",
    "llm.stop_after_unusable": (
        "stop (exit 3) after this many answers in a row"
        " gave no candidate; 0 = never"
    ),
    "llm.continue_cut_answers": "ask once to continue an answer cut at max_tokens",
    "database": "search state",
    "database.url": "null = SQLite file in the run folder; or postgresql+psycopg://user@host/db",
    "database.migration_interval": "iterations of an island between migrations",
    "database.migration_rate": "fraction of an island's elites copied to the next island",
    "database.feature_dimensions": "MAP-Elites axes: complexity, diversity, or any metric name",
    "database.archive_size": "programs kept in the global elite archive",
    "database.parent_selection": (
        "parent selectors drawn by weight: explore (uniform), exploit (tournament among cell"
        " elites), elite (global archive), pareto (per-instance fronts), or module:attr"
    ),
    "prompt.mode": "diff = SEARCH/REPLACE edits; rewrite = whole EVOLVE-BLOCK",
    "prompt.rewrite_every": "every N-th iteration asks for a full rewrite (0 = never)",
    "prompt.file_chars": "folder programs: characters of files shown (blocks always whole)",
    "llm.selection": (
        "ensemble model choice: weighted (fixed weights)"
        " | ucb (cost-aware bandit) | module:attr"
    ),
    "llm.bandit": (
        "llm.selection: ucb; reward = parent-relative gain"
        " clipped at reward_clip, scaled to [0, 1]"
    ),
    "llm.bandit.cost_weight": (
        "0 ignores cost; 1 divides a model's UCB value"
        " by its relative mean cost"
    ),
    "search": "search features, each off by default (see docs/config.md)",
    "search.novelty": "reject near-copies of island programs before evaluation",
    "search.novelty.threshold": "similarity (0-1) at or above which a child is a near-copy",
    "search.novelty.compare_with": (
        "recent valid programs of the island"
        " (plus the parent) compared with"
    ),
    "search.novelty.max_resamples": "answers asked for again before a near-copy is discarded",
    "search.novelty.llm_judge": "a near-copy is still evaluated if the first model judges it novel",
    "search.novelty.embedding": "OpenAI-compatible embeddings; model null = local MinHash shingles",
    "search.scratchpad": "every N evaluated children, notes + recommendations for the prompts",
    "search.scratchpad.summarizer": "auto (llm when models are set) | llm | statistics",
    "search.exploration": "explore.j2 when progress stalls, exploit.j2 right after a new best",
    "search.retry_failed_edit": "an edit that does not apply is asked for again once, at once",
    "search.tune": "an Optuna sampler tunes the literals of new island bests (docs/tuning.md)",
    "search.tune.trials": "evaluated trials per tuned program (evaluations, not iterations)",
    "search.tune.sampler": "tpe | cmaes | random | nsga2 | nsga3 | module:attr, with its args",
    "search.tune.objectives": "score | instances (one objective per instance score)",
    "search.tune.share": "share of evaluation.workers running trials at once (at least one)",
    "budget": "the run stops at the first budget reached (null = unlimited)",
    "budget.wall_time_s": "per invocation (a resumed run gets a fresh wall-time budget)",
    "evaluation.workers": "local: evaluation worker processes; ray: evaluations in flight",
    "evaluation.executor": (
        "local (warm worker processes),"
        " ray (tasks on a Ray cluster) or module:attr"
    ),
    "evaluation.ray_address": (
        "ray: cluster to join (auto, ray://head:10001)"
        "; null = start a local one"
    ),
    "evaluation.cpus_per_eval": "ray: CPUs each evaluation task requests",
    "evaluation.gpus_per_eval": "ray: GPUs each evaluation task requests (1 for GPU kernels)",
    "evaluation.start_timeout_s": (
        "ray: longest wait for a worker"
        " with those resources to start a task"
    ),
    "database.islands_owned": (
        "several controllers on one run:"
        " the islands this one works on (null = all)"
    ),
}

RUN_SECTIONS = ["seed", "out", "llm", "database", "prompt", "budget", "evaluation", "search"]


def _emit(key: str, value: Any, path: str, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    comment = COMMENTS.get(path)
    if isinstance(value, dict) and value:
        if comment:
            lines.append(f"{pad}# {comment}")
        lines.append(f"{pad}{key}:")
        for sub_key, sub_value in value.items():
            _emit(sub_key, sub_value, f"{path}.{sub_key}", indent + 1, lines)
        return
    rendered = yaml.safe_dump(value, default_flow_style=True).strip()
    if rendered.endswith("\n..."):
        rendered = rendered[:-4].strip()
    rendered = rendered.removesuffix("...").strip()
    suffix = f"  # {comment}" if comment else ""
    lines.append(f"{pad}{key}: {rendered}{suffix}")


def default_config_yaml() -> str:
    """The run sections of the default config, every key present, with comments."""
    data = dataclasses.asdict(Config())
    lines = [
        "# evolve run configuration. Precedence: defaults < problem.yaml < this file"
        " < --set key=value",
        "# Unknown keys are errors. `evolve config show PROBLEM --config THIS` prints the"
        " merged result.",
    ]
    for key in RUN_SECTIONS:
        _emit(key, data[key], key, 0, lines)
    return "\n".join(lines) + "\n"
