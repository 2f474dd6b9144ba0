"""ShinkaEvolve task folders: ``initial.py``, ``evaluate.py``, optional ``shinka.yaml``.

The config is the YAML ``shinka_run --config-fname`` reads: ``evo``/``evo_config``
(``EvolutionConfig``), ``db``/``db_config`` (``DatabaseConfig``), ``job``/``job_config``
(``LocalJobConfig``) and the runner's ``max_*_jobs`` keys. It is read from
``shinka.yaml``, or from the folder's only ``shinka*.yaml``; mapped onto ours key by key
(table in docs/importing.md). The evaluator runs unchanged as evaluator ``shinka``
(evaluators/foreign/shinka.py), in compatibility mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evolve.config import read_yaml
from evolve.errors import UserError
from evolve.foreign import ForeignProblem
from evolve.foreign.mapping import ForeignConfig
from evolve.foreign.programs import initial_program, problem_name
from evolve.foreign.shinka_keys import REASONS, map_evo

INITIAL, EVALUATOR, CONFIG = "initial.py", "evaluate.py", "shinka.yaml"
DEFAULT_TIMEOUT_S = 600  # ShinkaEvolve's local jobs have no limit; evolve needs one
NAMESPACES = {"evo": "evo_config", "db": "db_config", "job": "job_config"}


def _namespaces(raw: dict[str, Any], where: str) -> dict[str, str]:
    """Which spelling of each namespace the file uses (``evo`` or ``evo_config``)."""
    chosen = {}
    for short, long in NAMESPACES.items():
        if short in raw and long in raw:
            raise UserError(f"gives both '{short}' and '{long}'; keep one", where)
        chosen[short] = long if long in raw else short
    return chosen


class ShinkaLayout:
    """Recognises and reads ShinkaEvolve folders; ``config`` picks the config file."""

    title = "ShinkaEvolve"

    def __init__(self, config: str | None = None) -> None:
        self.config = config

    def recognises(self, folder: Path) -> bool:
        return (folder / INITIAL).is_file() and (folder / EVALUATOR).is_file()

    def _config_path(self, folder: Path, warnings: list[str]) -> Path | None:
        if self.config is not None:
            path = folder / self.config
            if not path.is_file():
                raise UserError("config file not found in the folder", str(path))
            return path
        if (folder / CONFIG).is_file():
            return folder / CONFIG
        found = sorted(folder.glob("shinka*.y*ml"))
        if len(found) == 1:
            return found[0]
        if found:
            warnings.append(f"{', '.join(p.name for p in found)}: several configs, none read; "
                            f"to use one, evolve import shinka {folder} --arg config=NAME -o DIR")
        return None

    def read(self, folder: Path) -> ForeignProblem:
        folder = Path(folder).resolve()
        if not self.recognises(folder):
            raise UserError(f"a ShinkaEvolve folder holds {INITIAL} and {EVALUATOR}", str(folder))
        warnings: list[str] = []
        path = self._config_path(folder, warnings)
        raw = read_yaml(path) if path is not None else {}
        names = _namespaces(raw, str(path))
        config = ForeignConfig(raw, str(path), set(names.values()), REASONS)
        data: dict[str, Any] = {
            "name": problem_name(folder), "evaluator": "shinka", "evaluator_args": {},
            "constraints": {"timeout_s": DEFAULT_TIMEOUT_S},
        }
        data["description"] = map_evo(config, names["evo"], data)
        _map_db(config, names["db"], data)
        _map_job(config, names["job"], data)
        _map_runner(config, data)
        initial = data.pop("initial_program", INITIAL)
        if not (folder / initial).is_file():
            raise UserError(f"'{initial}' not found in the folder",
                            f"{path}: {names['evo']}.init_program_path")
        data["initial_programs"] = [initial]
        warnings = config.warnings() + warnings
        programs = [initial_program(folder, initial, warnings)]
        evaluator = data["evaluator_args"].get("evaluator_file", EVALUATOR)
        read = [initial, evaluator] + ([path.name] if path is not None else [])
        return ForeignProblem("shinka", self.title, folder, data,
                              f"{path} (ShinkaEvolve config)" if path else str(folder),
                              programs, warnings, read)


def _map_db(config: ForeignConfig, ns: str, data: dict[str, Any]) -> None:
    database: dict[str, Any] = data.setdefault("database", {})
    for theirs, ours, kind in (("num_islands", "num_islands", "an integer"),
                               ("archive_size", "archive_size", "an integer"),
                               ("migration_interval", "migration_interval", "an integer"),
                               ("migration_rate", "migration_rate", "a number"),
                               ("num_archive_inspirations", "num_diverse_inspirations",
                                "an integer"),
                               ("num_top_k_inspirations", "num_top_inspirations", "an integer")):
        value = config.get(f"{ns}.{theirs}", kind)
        if value is not None:
            database[ours] = value


def seconds(text: str, where: str) -> float:
    """``HH:MM:SS`` (ShinkaEvolve's job time) in seconds."""
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if not 1 <= len(values) <= 3 or any(v < 0 for v in values):
        raise UserError(f"expected a time as HH:MM:SS, got {text!r}", where)
    total = 0.0
    for value in values:
        total = total * 60 + value
    return total


def _map_job(config: ForeignConfig, ns: str, data: dict[str, Any]) -> None:
    time = config.get(f"{ns}.time", "text")
    if time is not None:
        data["constraints"]["timeout_s"] = seconds(time, f"{config.name}: {ns}.time")
    evaluator = config.get(f"{ns}.eval_program_path", "text")
    if evaluator not in (None, EVALUATOR):
        data["evaluator_args"]["evaluator_file"] = evaluator


def _map_runner(config: ForeignConfig, data: dict[str, Any]) -> None:
    workers = config.get("max_evaluation_jobs", "an integer")
    if workers is not None:
        data.setdefault("evaluation", {})["workers"] = workers
    proposals = config.get("max_proposal_jobs", "an integer")
    if proposals is not None:
        data.setdefault("llm", {})["concurrency"] = proposals

