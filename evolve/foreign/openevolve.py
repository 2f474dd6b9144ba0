"""OpenEvolve folders: ``initial_program.py``, ``evaluator.py``, optional ``config.yaml``.

The config (OpenEvolve's ``Config`` schema: top-level run keys and the ``llm``,
``prompt``, ``database``, ``evaluator`` sections) is mapped onto ours key by key; the
table is in docs/importing.md. The evaluator runs unchanged as evaluator ``openevolve``
(evaluators/foreign/openevolve.py), in compatibility mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evolve.config import read_yaml
from evolve.errors import UserError
from evolve.foreign import ForeignProblem
from evolve.foreign.mapping import ForeignConfig
from evolve.foreign.programs import api_key_env, initial_program, openai_model, problem_name

INITIAL, EVALUATOR, CONFIG = "initial_program.py", "evaluator.py", "config.yaml"
DEFAULT_DIFF_PATTERN = r"<<<<<<< SEARCH\n(.*?)=======\n(.*?)>>>>>>> REPLACE"
DEFAULT_TIMEOUT_S = 300  # OpenEvolve's evaluator.timeout
DESCRIPTION = ("Improve the program inside the EVOLVE-BLOCK so that the evaluator scores it "
               "higher (its combined_score, or else the mean of its metrics).")
SECTIONS = {"llm", "prompt", "database", "evaluator", "evolution_trace"}
_NO_PROMPT_EQUIVALENT = "no equivalent in evolve's prompts (prompts/*.j2)"
_NO_LLM_FEEDBACK = "no equivalent: evolve does not ask an LLM to score programs"
_ARTIFACT_STORE = "no equivalent: artifacts are stored with each program in the run database"
REASONS = {
    "checkpoint_interval": "evolve commits every iteration as it ends; there is nothing to "
                           "checkpoint (evolve resume continues a run)",
    "log_level": "no equivalent (progress is printed; everything is in the run database)",
    "log_dir": "no equivalent (progress is printed; everything is in the run database)",
    "max_code_length": "no equivalent (constraints.max_changed_lines bounds an edit instead)",
    "early_stopping_patience": "no equivalent: a run stops at its budget (budget.*)",
    "convergence_threshold": "no equivalent: a run stops at its budget (budget.*)",
    "early_stopping_metric": "no equivalent: a run stops at its budget (budget.*)",
    "max_tasks_per_child": "no equivalent (every candidate runs in a fresh sandbox process)",
    "evolution_trace": "no equivalent (prompts, answers and programs are in the run database)",
    "llm.top_p": "no equivalent (evolve sends the temperature only)",
    "llm.random_seed": "no equivalent per request (the run's seed drives evolve's sampling)",
    "llm.reasoning_effort": "no equivalent (not sent to the model)",
    "llm.evaluator_models": _NO_LLM_FEEDBACK,
    "llm.init_client": "no equivalent (a custom client is a backend plug-in: "
                       "llm.models[].provider)",
    "prompt.template_dir": "no equivalent: evolve's templates are Jinja files; put overrides "
                           "in the folder's prompts/ (docs/authoring.md)",
    "prompt": _NO_PROMPT_EQUIVALENT,
    "database.population_size": "no equivalent: evolve keeps every program; selection works "
                                "on MAP-Elites cells and the elite archive (database.archive_size)",
    "database.db_path": "no equivalent: each run has its database in its run folder",
    "database.in_memory": "no equivalent: each run has its database in its run folder",
    "database.log_prompts": "no equivalent (LLM calls are stored with the run)",
    "database.diversity_metric": "no equivalent (diversity is a token-set distance)",
    "database.diversity_reference_size": "no equivalent (diversity is a token-set distance)",
    "database.artifacts_base_path": _ARTIFACT_STORE,
    "database.artifact_size_threshold": _ARTIFACT_STORE,
    "database.cleanup_old_artifacts": _ARTIFACT_STORE,
    "database.artifact_retention_days": _ARTIFACT_STORE,
    "database.novelty_llm": "no equivalent (search.novelty.llm_judge asks the first model)",
    "database.similarity_threshold": "has no effect without database.embedding_model (as in "
                                     "OpenEvolve)",
    "evaluator.max_retries": "no equivalent: a failed evaluation is recorded with its reason",
    "evaluator.cpu_limit": "no equivalent (evaluator_args.memory_mb and the time limit apply)",
    "evaluator.distributed": "no equivalent here (several machines: evaluation.executor: ray)",
    "evaluator.use_llm_feedback": _NO_LLM_FEEDBACK,
    "evaluator.llm_feedback_weight": _NO_LLM_FEEDBACK,
    "evaluator.max_artifact_storage": _ARTIFACT_STORE,
}
_MODEL_KEYS = {"name", "weight", "api_base", "api_key", "temperature"}


class OpenEvolveLayout:
    """Recognises and reads OpenEvolve folders; ``config`` picks another config file."""

    title = "OpenEvolve"

    def __init__(self, config: str = CONFIG) -> None:
        self.config = config

    def recognises(self, folder: Path) -> bool:
        return (folder / INITIAL).is_file() and (folder / EVALUATOR).is_file()

    def read(self, folder: Path) -> ForeignProblem:
        folder = Path(folder).resolve()
        if not self.recognises(folder):
            raise UserError(f"an OpenEvolve folder holds {INITIAL} and {EVALUATOR}", str(folder))
        path = folder / self.config
        if self.config != CONFIG and not path.is_file():
            raise UserError("config file not found in the folder", str(path))
        raw = read_yaml(path) if path.is_file() else {}
        config = ForeignConfig(raw, str(path), SECTIONS, REASONS)
        data: dict[str, Any] = {
            "name": problem_name(folder), "initial_programs": [INITIAL],
            "evaluator": "openevolve", "evaluator_args": {},
            "constraints": {"timeout_s": DEFAULT_TIMEOUT_S},
        }
        _map_run(config, data)
        _map_llm(config, data)
        data["description"] = _map_prompt(config, data)
        _map_database(config, data)
        _map_evaluator(config, data)
        warnings = config.warnings()
        others = sorted(p.name for p in folder.glob("*.y*ml") if p.name != path.name)
        if others:
            warnings.append(f"{', '.join(others)}: not read (only {path.name} is); to use one, "
                            f"evolve import openevolve {folder} --arg config=NAME -o DIR")
        programs = [initial_program(folder, INITIAL, warnings)]
        read = [INITIAL, EVALUATOR] + ([path.name] if path.is_file() else [])
        return ForeignProblem("openevolve", self.title, folder, data,
                              f"{path} (OpenEvolve config)" if path.is_file() else str(folder),
                              programs, warnings, read)


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    section: dict[str, Any] = data.setdefault(name, {})
    return section


def _map_run(config: ForeignConfig, data: dict[str, Any]) -> None:
    iterations = config.get("max_iterations", "an integer")
    if iterations is not None:
        _section(data, "budget")["iterations"] = iterations
    seed = config.get("random_seed", "an integer")
    database_seed = config.get("database.random_seed", "an integer")
    if seed is not None or database_seed is not None:
        data["seed"] = seed if seed is not None else database_seed
    language = config.get("language", "text")
    if language not in (None, "python"):
        config.note("language", f"'{language}': evolve evolves {INITIAL} as Python")
    suffix = config.get("file_suffix", "text")
    if suffix not in (None, ".py"):
        config.note("file_suffix", f"'{suffix}': candidates are written as .py files")
    diff = config.get("diff_based_evolution", "true or false")
    if diff is not None:
        _section(data, "prompt")["mode"] = "diff" if diff else "rewrite"
    pattern = config.get("diff_pattern", "text")
    if pattern is not None and pattern != DEFAULT_DIFF_PATTERN:
        config.note("diff_pattern", "evolve reads SEARCH/REPLACE blocks in its own format; "
                                    "this pattern is not used")


def _model(config: ForeignConfig, index: int, model: Any, base: str | None,
           key_env: str | None) -> dict[str, Any]:
    where = f"llm.models[{index}]"
    if not isinstance(model, dict) or not isinstance(model.get("name"), str):
        raise UserError("expected a mapping with a model name", f"{config.name}: {where}")
    weight = model.get("weight", 1.0)
    own_key = model.get("api_key")
    entry = openai_model(
        model["name"], weight, model.get("api_base") or base,
        api_key_env(config, f"{where}.api_key", own_key) if isinstance(own_key, str) else key_env)
    if model.get("temperature") is not None:
        entry["temperature"] = model["temperature"]
    for key in sorted(set(model) - _MODEL_KEYS):
        reason = REASONS.get(f"llm.{key}", "no equivalent for one model")
        config.note(f"{where}.{key}", f"{reason}; ignored")
    return entry


def _map_llm(config: ForeignConfig, data: dict[str, Any]) -> None:
    base = config.get("llm.api_base", "text")
    key_env = api_key_env(config, "llm.api_key", config.get("llm.api_key", "text"))
    models = [_model(config, i, m, base, key_env)
              for i, m in enumerate(config.get("llm.models", "a list", []))]
    primary = config.get("llm.primary_model", "text")
    primary_weight = config.get("llm.primary_model_weight", "a number")
    if primary:
        models.append(openai_model(primary, primary_weight or 1.0, base, key_env))
    secondary = config.get("llm.secondary_model", "text")
    secondary_weight = config.get("llm.secondary_model_weight", "a number")
    if secondary and (secondary_weight is None or secondary_weight > 0):
        weight = 0.2 if secondary_weight is None else secondary_weight  # OpenEvolve's default
        models.append(openai_model(secondary, weight, base, key_env))
    llm = _section(data, "llm")
    if models:
        llm["models"] = models
    for theirs, ours, kind in (("temperature", "temperature", "a number"),
                               ("max_tokens", "max_tokens", "an integer"),
                               ("timeout", "timeout_s", "a number"),
                               ("retries", "retries", "an integer"),
                               ("retry_delay", "backoff_s", "a number")):
        value = config.get(f"llm.{theirs}", kind)
        if value is not None:
            llm[ours] = value


def _map_prompt(config: ForeignConfig, data: dict[str, Any]) -> str:
    """Maps the prompt keys; returns the description (OpenEvolve's system message)."""
    messages = [config.get("prompt.system_message", "text"),
                config.get("llm.system_message", "text")]
    # "system_message" names OpenEvolve's default template: no task-specific text.
    given = [m for m in messages if m and m.strip() and m != "system_message"]
    database = _section(data, "database")
    for theirs, ours in (("num_top_programs", "num_top_inspirations"),
                         ("num_diverse_programs", "num_diverse_inspirations")):
        value = config.get(f"prompt.{theirs}", "an integer")
        if value is not None:
            database[ours] = value
    include = config.get("prompt.include_artifacts", "true or false")
    if include is not None:
        _section(data, "prompt")["include_artifacts"] = include
    return given[0] if given else DESCRIPTION


def _map_database(config: ForeignConfig, data: dict[str, Any]) -> None:
    database = _section(data, "database")
    for key, kind in (("num_islands", "an integer"), ("archive_size", "an integer"),
                      ("migration_interval", "an integer"), ("migration_rate", "a number")):
        value = config.get(f"database.{key}", kind)
        if value is not None:
            database[key] = value
    ratios = [(name, config.get(f"database.{key}", "a number"), default)
              for key, name, default in (("exploration_ratio", "explore", 0.2),
                                         ("exploitation_ratio", "exploit", 0.7),
                                         ("elite_selection_ratio", "elite", 0.1))]
    if any(value is not None for _, value, _ in ratios):
        database["parent_selection"] = [
            {"name": name, "weight": default if value is None else value}
            for name, value, default in ratios if (default if value is None else value) > 0]
    bins = config.get("database.feature_bins", "a number or a mapping")
    if isinstance(bins, dict):
        counts = [int(v) for v in bins.values() if type(v) in (int, float)]
        bins = max(counts) if counts else None
        config.note("database.feature_bins", "evolve uses one bin count for every dimension: "
                                             f"took the largest ({bins})")
    if bins is not None:
        database["feature_bins"] = int(bins)
    dimensions = config.get("database.feature_dimensions", "a list")
    if dimensions is not None:
        database["feature_dimensions"] = [
            "combined_score" if d == "score" else str(d) for d in dimensions]
        custom = [str(d) for d in dimensions if d not in ("complexity", "diversity", "score")]
        if custom:  # OpenEvolve leaves them out of the score when there is no combined_score
            data["evaluator_args"]["feature_dimensions"] = custom
    embedding = config.get("database.embedding_model", "text")
    if embedding:
        threshold = config.get("database.similarity_threshold", "a number", 0.99)
        _section(_section(data, "search"), "novelty").update(
            {"enabled": True, "threshold": threshold, "embedding": {"model": embedding}})


def _map_evaluator(config: ForeignConfig, data: dict[str, Any]) -> None:
    args = data["evaluator_args"]
    timeout = config.get("evaluator.timeout", "a number")
    if timeout is not None:
        data["constraints"]["timeout_s"] = timeout
    memory = config.get("evaluator.memory_limit_mb", "an integer")
    if memory is not None:
        args["memory_mb"] = memory
    cascade = config.get("evaluator.cascade_evaluation", "true or false")
    if cascade is not None:
        args["cascade"] = cascade
    thresholds = config.get("evaluator.cascade_thresholds", "a list")
    if thresholds is not None:
        args["cascade_thresholds"] = thresholds
    workers = config.get("evaluator.parallel_evaluations", "an integer")
    if workers is not None:
        _section(data, "evaluation")["workers"] = workers
    artifacts = config.get("evaluator.enable_artifacts", "true or false")
    if artifacts is False:
        _section(data, "prompt")["include_artifacts"] = False
