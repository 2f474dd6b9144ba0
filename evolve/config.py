"""Run configuration: a typed schema, YAML loading, ``--set`` overrides.

One schema covers problem.yaml and run config files. Precedence, lowest first:
built-in defaults < problem.yaml < config file (``--config``) < ``--set key=value``.
Unknown keys and wrong types are errors naming the file, the key and the expected type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import yaml

from evolve.errors import UserError


@dataclass
class Hint:
    text: str
    after_iterations: int = 0
    on_stagnation: int | None = None  # released after this many iterations without improvement


@dataclass
class Constraints:
    forbidden_imports: list[str] = field(default_factory=list)
    max_changed_lines: int | None = None
    timeout_s: float = 60.0  # memory and other limits are the evaluator's (evaluator_args)


@dataclass
class ModelConfig:
    name: str
    # "openai" | "litellm" | "offline" (the mutation engine as a model), a name registered
    # under the evolve.llm_backends entry points, or "package.module:attr"
    provider: str = "openai"
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    weight: float = 1.0
    price_in_per_mtok: float | None = None  # USD per million prompt tokens (overrides the table)
    price_out_per_mtok: float | None = None
    temperature: float | None = None


@dataclass
class BanditConfig:
    """Cost-aware UCB model selection (``llm.selection: ucb``)."""

    exploration: float = 1.0  # weight of the UCB exploration bonus
    cost_weight: float = 0.5  # 0: ignore cost; 1: divide the UCB value by the relative cost
    reward_clip: float = 0.05  # relative improvement over the parent that earns the full reward 1


@dataclass
class LLMConfig:
    models: list[ModelConfig] = field(default_factory=list)  # empty: the offline mutation engine
    temperature: float = 0.7
    max_tokens: int = 4096
    timeout_s: float = 120.0
    retries: int = 3
    backoff_s: float = 1.0
    concurrency: int = 4
    selection: str = (
        "weighted"  # how an ensemble picks a model per call: weighted | ucb | module:attr
    )
    bandit: BanditConfig = field(default_factory=BanditConfig)


@dataclass
class DatabaseConfig:
    url: str | None = None  # default: sqlite:///<run dir>/evolve.db
    num_islands: int = 4
    migration_interval: int = 20  # iterations per island between migrations
    migration_rate: float = 0.1  # fraction of an island's elites copied to the next island
    feature_dimensions: list[str] = field(default_factory=lambda: ["complexity", "diversity"])
    feature_bins: int = 8
    archive_size: int = 50
    exploration_ratio: float = 0.2
    exploitation_ratio: float = 0.7
    elite_ratio: float = 0.1
    pareto_ratio: float = 0.0  # parent from the island's per-instance Pareto fronts (GEPA)
    num_top_inspirations: int = 2
    num_diverse_inspirations: int = 2
    num_failures: int = 2
    # Several controllers on one run (shared PostgreSQL database): the islands this one
    # works on; None = all. See evolve/database/shared_islands.py and docs/scale_out.md.
    islands_owned: list[int] | None = None


@dataclass
class PromptConfig:
    mode: Literal["diff", "rewrite"] = "diff"
    rewrite_every: int = 0  # every N-th iteration asks for a full-block rewrite (0: never)
    include_artifacts: bool = True


@dataclass
class BudgetConfig:
    iterations: int | None = 100
    evaluations: int | None = None
    usd: float | None = None
    wall_time_s: float | None = None


@dataclass
class EvaluationConfig:
    workers: int = 2  # local: worker processes; ray: evaluations in flight at once
    executor: str = "local"  # "local" | "ray" | "module:attr"
    ray_address: str | None = (
        None  # ray executor: cluster address ("auto", "ray://host:10001"); none starts a local one
    )
    cpus_per_eval: float = 1.0  # ray executor: CPUs each evaluation task requests
    gpus_per_eval: float = (
        0.0  # ray executor: GPUs each evaluation task requests (e.g. 1 for kernels)
    )
    start_timeout_s: float = 600.0  # ray executor: longest wait for a worker with those resources


@dataclass
class EmbeddingConfig:
    """An OpenAI-compatible embeddings endpoint; without ``model`` novelty uses code shingles."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 30.0


@dataclass
class NoveltyConfig:
    enabled: bool = False
    threshold: float = 0.95  # similarity at or above which a child counts as a near-copy
    compare_with: int = 20  # most recent valid programs of the island a child is compared with
    shingle_size: int = 3  # tokens per shingle (local similarity)
    num_hashes: int = 64  # MinHash signature length (local similarity)
    max_resamples: int = 2  # extra LLM answers asked for before the child is discarded
    llm_judge: bool = False  # a near-copy is rejected only if the LLM also judges it not novel
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)


@dataclass
class ScratchpadConfig:
    enabled: bool = False
    every: int = 20  # evaluated children between two scratchpad updates
    summarizer: Literal["auto", "llm", "statistics"] = (
        "auto"  # auto: llm when models are configured
    )
    recommendations: int = 3
    max_chars: int = 800  # scratchpad text shown in prompts


@dataclass
class ExplorationConfig:
    enabled: bool = False
    stall_iterations: int = 15  # iterations without a new best before switching to explore
    climb_window: int = 5  # a new best within this many iterations switches to exploit
    explore_temperature: float = 1.0
    exploit_temperature: float = 0.4


@dataclass
class SearchConfig:
    novelty: NoveltyConfig = field(default_factory=NoveltyConfig)
    scratchpad: ScratchpadConfig = field(default_factory=ScratchpadConfig)
    exploration: ExplorationConfig = field(default_factory=ExplorationConfig)
    retry_failed_edit: bool = False  # ask again at once, with the fix prompt, when an edit fails


@dataclass
class Config:
    # problem
    name: str = ""
    description: str = ""
    initial_programs: list[str] = field(default_factory=lambda: ["initial_program.py"])
    evaluator: str = ""
    evaluator_args: dict[str, Any] = field(default_factory=dict)
    hints: list[Hint] = field(default_factory=list)
    constraints: Constraints = field(default_factory=Constraints)
    preload: list[str] = field(default_factory=lambda: ["numpy"])
    # run
    seed: int = 0
    out: str = "runs"
    llm: LLMConfig = field(default_factory=LLMConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    search: SearchConfig = field(default_factory=SearchConfig)


# ---------------------------------------------------------------- validation


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "mapping"
    if tp is type(None):
        return "null"
    if dataclasses.is_dataclass(tp):
        return "mapping"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against type ``tp`` and build dataclasses; raise UserError."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for arg in typing.get_args(tp):
            try:
                return _convert(value, arg, where)
            except UserError as exc:
                errors.append(exc)
        raise UserError(f"expected {_type_name(tp)}, got {type(value).__name__} {value!r}", where)
    if origin is Literal:
        if value in typing.get_args(tp):
            return value
        raise UserError(f"expected {_type_name(tp)}, got {value!r}", where)
    if tp is type(None):
        if value is None:
            return None
    elif origin is list:
        if isinstance(value, list):
            (item,) = typing.get_args(tp)
            return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if isinstance(value, dict):
            return dict(value)
    elif dataclasses.is_dataclass(tp):
        if isinstance(value, dict):
            return build(tp, value, where)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise UserError(f"expected {_type_name(tp)}, got {type(value).__name__} {value!r}", where)


def build(cls: Any, data: dict[str, Any], where: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in names:
            raise UserError(f"unknown key (known: {', '.join(sorted(names))})", path)
        kwargs[key] = _convert(value, hints[key], path)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise UserError(str(exc).split(".__init__() ")[-1], where or cls.__name__) from None


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


# ---------------------------------------------------------------- loading and merging


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping; every failure is a one-line UserError naming the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError("file not found", str(path)) from None
    except OSError as exc:
        raise UserError(f"cannot read file ({exc.strerror})", str(path)) from None
    except UnicodeDecodeError:
        raise UserError("not a text file (invalid UTF-8)", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"invalid YAML ({line}{problem})", str(path)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(
            f"expected a mapping at the top level, got {type(data).__name__}", str(path)
        )
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if (
            isinstance(value, dict)
            and isinstance(merged.get(key), dict)
            and key != "evaluator_args"
        ):
            merged[key] = deep_merge(merged[key], value)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def parse_set(item: str) -> dict[str, Any]:
    """``a.b.c=value`` -> ``{"a": {"b": {"c": value}}}``; the value is parsed as YAML."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise UserError("expected KEY=VALUE, e.g. --set budget.iterations=50", f"--set {item}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    out: dict[str, Any] = {}
    node = out
    parts = key.strip().split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def _check_source(data: dict[str, Any], source: str) -> None:
    """Validate one layer on its own so errors name the file that holds the bad key."""
    defaults = to_dict(Config())
    try:
        build(Config, deep_merge(defaults, data))
    except UserError as exc:
        raise UserError(exc.message, f"{source}: {exc.where}" if exc.where else source) from None


def load_config(
    problem_data: dict[str, Any] | None = None,
    problem_source: str = "problem.yaml",
    config_path: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> Config:
    """Merge defaults < problem.yaml < config file < --set and validate."""
    layers: list[tuple[dict[str, Any], str]] = []
    if problem_data:
        layers.append((problem_data, problem_source))
    if config_path is not None:
        layers.append((read_yaml(config_path), str(config_path)))
    for item in overrides:
        layers.append((parse_set(item), f"--set {item}"))
    merged: dict[str, Any] = to_dict(Config())
    for data, source in layers:
        _check_source(data, source)
        merged = deep_merge(merged, data)
    config: Config = build(Config, merged)
    validate_semantics(config)
    return config


def validate_semantics(config: Config) -> None:
    """Checks beyond types: ranges and relations between keys."""
    db = config.database
    if db.num_islands < 1:
        raise UserError("must be at least 1", "database.num_islands")
    ratios = db.exploration_ratio + db.exploitation_ratio + db.elite_ratio + db.pareto_ratio
    if min(db.exploration_ratio, db.exploitation_ratio, db.elite_ratio, db.pareto_ratio) < 0:
        raise UserError("sampling ratios must not be negative", "database")
    if abs(ratios - 1.0) > 1e-6:
        raise UserError(
            "exploration_ratio + exploitation_ratio + elite_ratio + pareto_ratio must sum to 1"
            f" (got {ratios:g})",
            "database",
        )
    if db.islands_owned is not None:
        from evolve.database.shared_islands import check_islands_owned

        check_islands_owned(db.islands_owned, db.num_islands)
    if db.feature_bins < 1:
        raise UserError("must be at least 1", "database.feature_bins")
    if config.evaluation.workers < 1:
        raise UserError("must be at least 1", "evaluation.workers")
    if config.evaluation.cpus_per_eval < 0 or config.evaluation.gpus_per_eval < 0:
        raise UserError("must not be negative", "evaluation.cpus_per_eval / gpus_per_eval")
    if config.evaluation.start_timeout_s <= 0:
        raise UserError("must be positive", "evaluation.start_timeout_s")
    if config.llm.concurrency < 1:
        raise UserError("must be at least 1", "llm.concurrency")
    for i, model in enumerate(config.llm.models):
        if model.weight <= 0:
            raise UserError("must be positive", f"llm.models[{i}].weight")
    _validate_search(config)
    for key in ("iterations", "evaluations", "usd", "wall_time_s"):
        value = getattr(config.budget, key)
        if value is not None and value < 0:
            raise UserError("must not be negative", f"budget.{key}")


def _validate_search(config: Config) -> None:
    novelty = config.search.novelty
    if not 0.0 < novelty.threshold <= 1.0:
        raise UserError("must be in (0, 1]", "search.novelty.threshold")
    for key in ("compare_with", "shingle_size", "num_hashes"):
        if getattr(novelty, key) < 1:
            raise UserError("must be at least 1", f"search.novelty.{key}")
    if novelty.max_resamples < 0:
        raise UserError("must not be negative", "search.novelty.max_resamples")
    if novelty.llm_judge and not config.llm.models:
        raise UserError(
            "the LLM judge needs a model in llm.models (the offline engine cannot judge)",
            "search.novelty.llm_judge",
        )
    pad = config.search.scratchpad
    if pad.every < 1:
        raise UserError("must be at least 1", "search.scratchpad.every")
    if pad.summarizer == "llm" and not config.llm.models:
        raise UserError(
            "summarizer 'llm' needs a model in llm.models", "search.scratchpad.summarizer"
        )
    explore = config.search.exploration
    if explore.stall_iterations < 1 or explore.climb_window < 0:
        raise UserError(
            "stall_iterations must be at least 1 and climb_window not negative",
            "search.exploration",
        )
    bandit = config.llm.bandit
    if bandit.reward_clip <= 0 or bandit.exploration < 0 or bandit.cost_weight < 0:
        raise UserError(
            "reward_clip must be positive; exploration and cost_weight not negative", "llm.bandit"
        )
