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

from evolve.config_sources import ConfigLayers
from evolve.errors import UserError, did_you_mean
from evolve.languages import check_overrides


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
class BuildConfig:
    """A compile step for folder programs, run in the sandbox before each evaluation."""

    command: list[str] = field(default_factory=list)  # argv, e.g. [make] (empty: no build)
    timeout_s: float = 120.0
    output_chars: int = 20_000  # compiler output kept (shown to the model when it fails)
    max_processes: int = 64  # compilers start subprocesses (cc1, as, ld, make's jobs)
    memory_mb: int = 4096  # address space of each build process


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
    # The provider's own settings, passed to its factory as keyword arguments and checked
    # against its signature (e.g. a third-party backend's region).
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class BanditConfig:
    """Cost-aware UCB model selection (``llm.selection: ucb``)."""

    exploration: float = 1.0  # weight of the UCB exploration bonus
    cost_weight: float = 0.5  # 0: ignore cost; 1: divide the UCB value by the relative cost
    reward_clip: float = 0.05  # relative improvement over the parent that earns the full reward 1


@dataclass
class TranscriptsConfig:
    """Every call's prompt and raw answer, kept in the store (evolve.llm.transcript)."""

    enabled: bool = True
    max_chars: int = 200_000  # per text (each prompt message, the answer): head and tail kept


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
    transcripts: TranscriptsConfig = field(default_factory=TranscriptsConfig)
    # A run stops (status failed, exit code 3) once this many answers in a row produced no
    # candidate (edit failed or call failed); 0 = never.
    stop_after_unusable: int = 20
    continue_cut_answers: bool = True  # one "continue" request for an answer cut at max_tokens


@dataclass
class SelectorSpec:
    """One parent-selection strategy of ``database.parent_selection`` and its share."""

    name: str  # a registered selector (explore, exploit, elite, pareto) or "module:attr"
    weight: float = 1.0  # relative: each draw picks a selector with probability weight / sum
    args: dict[str, Any] = field(default_factory=dict)  # the selector's own settings


@dataclass
class PluginSpec:
    """A plug-in named by registry name or "module:attr", with its own settings."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


def default_parent_selection() -> list[SelectorSpec]:
    return [SelectorSpec("explore", 0.2), SelectorSpec("exploit", 0.7), SelectorSpec("elite", 0.1)]


@dataclass
class DatabaseConfig:
    url: str | None = None  # default: sqlite:///<run dir>/evolve.db
    num_islands: int = 4
    migration_interval: int = 20  # iterations per island between migrations
    migration_rate: float = 0.1  # fraction of an island's elites copied to the next island
    feature_dimensions: list[str] = field(default_factory=lambda: ["complexity", "diversity"])
    feature_bins: int = 8
    archive_size: int = 50
    # How each iteration picks its parent on its island: one selector per draw, chosen by
    # weight (see evolve/search/selectors.py; "pareto" is the per-instance fronts of GEPA).
    parent_selection: list[SelectorSpec] = field(default_factory=default_parent_selection)
    num_top_inspirations: int = 2
    num_diverse_inspirations: int = 2
    num_failures: int = 2
    # Several controllers on one run (shared PostgreSQL database): the islands this one
    # works on; None = all. See evolve/search/shared.py and docs/scale_out.md.
    islands_owned: list[int] | None = None


@dataclass
class PromptConfig:
    mode: Literal["diff", "rewrite"] = "diff"
    rewrite_every: int = 0  # every N-th iteration asks for a full-block rewrite (0: never)
    include_artifacts: bool = True
    # Folder programs: characters of files a prompt shows. EVOLVE-BLOCKs are always shown
    # whole; the lines around them and the context files share what is left.
    file_chars: int = 16_000


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
    # The executor's own settings, passed to its factory as keyword arguments and checked
    # against its signature (e.g. a third-party executor's queue).
    args: dict[str, Any] = field(default_factory=dict)


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
class TuneConfig:
    """Autotuning inside the loop: a black-box optimizer tunes the literals of programs."""

    enabled: bool = False
    # Which programs get a study: "island_best" (each island's best when it is new and
    # untuned) or "best" (the run's best when it is new and untuned).
    targets: Literal["island_best", "best"] = "island_best"
    trials: int = 20  # evaluated trials per tuned program
    # An Optuna sampler by registry name (tpe, cmaes, random, nsga2, nsga3) or module:attr.
    sampler: PluginSpec = field(default_factory=lambda: PluginSpec("tpe"))
    objectives: Literal["score", "instances"] = "score"  # instances: one objective each
    max_parameters: int = 32  # literals tuned per program (annotated first, then in order)
    share: float = 0.5  # of evaluation.workers, running trials at once (at least one)


@dataclass
class SearchConfig:
    novelty: NoveltyConfig = field(default_factory=NoveltyConfig)
    scratchpad: ScratchpadConfig = field(default_factory=ScratchpadConfig)
    exploration: ExplorationConfig = field(default_factory=ExplorationConfig)
    retry_failed_edit: bool = False  # ask again at once, with the fix prompt, when an edit fails
    tune: TuneConfig = field(default_factory=TuneConfig)
    # More search hooks by registry name or "module:attr", each with its own args
    # (see evolve/search/hooks.py); they run after the built-in ones above.
    hooks: list[PluginSpec] = field(default_factory=list)


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
    # folder programs: file pattern -> language (the comment syntax of its markers)
    languages: dict[str, str] = field(default_factory=dict)
    build: BuildConfig = field(default_factory=BuildConfig)
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
            moved = MOVED_KEYS.get(f"{cls.__name__}.{key}")
            if moved is not None:
                raise UserError(f"this key was replaced by {moved}", path)
            raise UserError(f"unknown key{did_you_mean(key, names)} (known: "
                            f"{', '.join(sorted(names))})", path)
        kwargs[key] = _convert(value, hints[key], path)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise UserError(str(exc).split(".__init__() ")[-1], where or cls.__name__) from None


_SELECTION_EXAMPLE = (
    "database.parent_selection, a weighted list such as [{name: explore, weight: 0.2}, "
    "{name: exploit, weight: 0.7}, {name: elite, weight: 0.1}, {name: pareto, weight: 0.3}]"
)
# Keys of earlier versions (schema class.key -> what replaced it), named in the error.
MOVED_KEYS = {
    f"DatabaseConfig.{key}": _SELECTION_EXAMPLE
    for key in ("exploration_ratio", "exploitation_ratio", "elite_ratio", "pareto_ratio")
}
_RATIO_SELECTORS = (
    ("exploration_ratio", "explore", 0.2),
    ("exploitation_ratio", "exploit", 0.7),
    ("elite_ratio", "elite", 0.1),
    ("pareto_ratio", "pareto", 0.0),
)


def migrate_stored(data: dict[str, Any]) -> dict[str, Any]:
    """A stored run's configuration in today's schema (runs keep working after a change).

    Parent-selection ratios (up to version 0.1) become ``database.parent_selection``.
    """
    database = data.get("database")
    if not isinstance(database, dict) or not any(k in database for k, _, _ in _RATIO_SELECTORS):
        return data
    database = dict(database)
    selection = []
    for key, name, default in _RATIO_SELECTORS:
        weight = database.pop(key, default)
        if weight:
            selection.append({"name": name, "weight": weight, "args": {}})
    database["parent_selection"] = selection
    return {**data, "database": database}


def config_from_stored(data: dict[str, Any]) -> Config:
    """The :class:`Config` of a stored run, migrated from an older schema if needed."""
    config: Config = build(Config, migrate_stored(data))
    return config


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
    return merge_layers(config_layers(problem_data, problem_source, config_path, overrides))


def config_layers(
    problem_data: dict[str, Any] | None = None,
    problem_source: str = "problem.yaml",
    config_path: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> ConfigLayers:
    """The layers above the defaults, lowest first, each with the source it came from."""
    layers = ConfigLayers()
    if problem_data:
        layers.add(problem_data, problem_source)
    if config_path is not None:
        layers.add(read_yaml(config_path), str(config_path))
    for item in overrides:
        layers.add(parse_set(item), f"--set {item}")
    return layers


def merge_layers(layers: ConfigLayers) -> Config:
    """Check each layer on its own, merge them over the defaults, validate the result
    (errors name the layer that set the offending key)."""
    merged: dict[str, Any] = to_dict(Config())
    for data, source in layers.items:
        _check_source(data, source)
        merged = deep_merge(merged, data)
    config: Config = build(Config, merged)
    with layers.blame():
        validate_semantics(config)
    return config


def validate_semantics(config: Config) -> None:
    """Checks beyond types: ranges and relations between keys."""
    db = config.database
    if db.num_islands < 1:
        raise UserError("must be at least 1", "database.num_islands")
    if not db.parent_selection:
        raise UserError("must list at least one selector", "database.parent_selection")
    for i, spec in enumerate(db.parent_selection):
        if spec.weight < 0:
            raise UserError("must not be negative", f"database.parent_selection[{i}].weight")
    if sum(spec.weight for spec in db.parent_selection) <= 0:
        raise UserError("the weights must not all be 0", "database.parent_selection")
    if db.islands_owned is not None:
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
    if config.llm.stop_after_unusable < 0:
        raise UserError("must not be negative (0 = never stop)", "llm.stop_after_unusable")
    if config.llm.transcripts.max_chars < 1000:
        raise UserError("must be at least 1000", "llm.transcripts.max_chars")
    for i, model in enumerate(config.llm.models):
        if model.weight <= 0:
            raise UserError("must be positive", f"llm.models[{i}].weight")
    _validate_search(config)
    _validate_program(config)
    for key in ("iterations", "evaluations", "usd", "wall_time_s"):
        value = getattr(config.budget, key)
        if value is not None and value < 0:
            raise UserError("must not be negative", f"budget.{key}")


def _validate_program(config: Config) -> None:
    for pattern, language in config.languages.items():
        if not isinstance(language, str):
            raise UserError(f"expected a language name, got {language!r}",
                            f"languages.{pattern}")
    unknown = check_overrides(config.languages)
    if unknown:
        raise UserError(unknown, "languages")
    build = config.build
    if build.timeout_s <= 0 or build.output_chars < 0 or build.max_processes < 0:
        raise UserError("timeout_s must be positive; output_chars and max_processes not "
                        "negative", "build")
    if config.prompt.file_chars < 0:
        raise UserError("must not be negative", "prompt.file_chars")


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
    tune = config.search.tune
    if tune.trials < 1 or tune.max_parameters < 1:
        raise UserError("trials and max_parameters must be at least 1", "search.tune")
    if not 0.0 < tune.share <= 1.0:
        raise UserError("must be in (0, 1]", "search.tune.share")
    bandit = config.llm.bandit
    if bandit.reward_clip <= 0 or bandit.exploration < 0 or bandit.cost_weight < 0:
        raise UserError(
            "reward_clip must be positive; exploration and cost_weight not negative", "llm.bandit"
        )


def check_islands_owned(owned: list[int], num_islands: int) -> list[int]:
    """Validated, sorted island indexes (UserError naming database.islands_owned)."""
    where = "database.islands_owned"
    if not owned:
        raise UserError("must list at least one island", where)
    if len(set(owned)) != len(owned):
        raise UserError(f"lists an island twice: {owned}", where)
    outside = [i for i in owned if not 0 <= i < num_islands]
    if outside:
        raise UserError(f"islands {outside} do not exist (num_islands is {num_islands})", where)
    return sorted(owned)
