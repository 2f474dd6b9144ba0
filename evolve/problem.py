"""Problem folders: ``problems/<name>/problem.yaml`` plus initial programs and a description."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evolve.codebase import combined_text, read_program_folder
from evolve.config import Config, config_layers, merge_layers, read_yaml
from evolve.config_sources import ConfigLayers
from evolve.edits import evolve_blocks
from evolve.errors import UserError
from evolve.foreign import ForeignProblem, recognise

PROBLEM_FILE = "problem.yaml"


@dataclass
class Problem:
    """A loaded problem folder with its effective configuration."""

    directory: Path
    config: Config
    description: str
    initial_programs: list[tuple[str, str]]  # (file or folder name, code)
    sources: ConfigLayers = field(default_factory=ConfigLayers)  # where each value was set
    # Initial programs that are folders: name -> files (their code above is the combined text)
    folders: dict[str, dict[str, str]] = field(default_factory=dict)
    # A folder of another framework read in place (evolve.foreign): its layout's name
    # ("openevolve", "shinka"; "" for a problem.yaml folder) and what did not carry over.
    layout: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.name or self.directory.name


def problem_yaml(directory: Path) -> Path:
    directory = Path(directory)
    if directory.is_file() and directory.name == PROBLEM_FILE:
        directory = directory.parent
    if not directory.exists():
        raise UserError(
            "problem folder not found (give a folder holding problem.yaml)", str(directory)
        )
    path = directory / PROBLEM_FILE
    if not path.is_file():
        raise UserError(
            f"no {PROBLEM_FILE} in this folder (is it a problem folder?)", str(directory)
        )
    return path


def load_problem(
    directory: Path | str,
    config_path: Path | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> Problem:
    """Load a problem folder, merging defaults < problem.yaml < config file < --set.

    A folder without problem.yaml that another framework's layout recognises (an
    OpenEvolve or ShinkaEvolve folder, see evolve.foreign) is read in place."""
    given = Path(directory)
    if given.is_dir() and not (given / PROBLEM_FILE).is_file():
        foreign = recognise(given)
        if foreign is not None:
            return _load_foreign(foreign, config_path, overrides)
    spec_path = problem_yaml(given)
    directory = spec_path.parent.resolve()
    data = read_yaml(spec_path)
    sources = config_layers(data, str(spec_path), config_path, overrides)
    config = merge_layers(sources)
    if not config.evaluator:
        raise UserError(
            "missing key 'evaluator' (a registry name or 'package.module:attr')", str(spec_path)
        )
    description = _read_description(directory, config.description, spec_path)
    folders = {
        name: _read_folder(directory, name, spec_path, config.languages)
        for name in config.initial_programs
        if (directory / name).is_dir()
    }
    if folders and len(folders) != len(config.initial_programs):
        raise UserError(
            "initial_programs mixes folders and single files; list folders only or files only",
            f"{spec_path}: initial_programs",
        )
    programs = [
        (name, combined_text(folders[name])) if name in folders
        else _read_program(directory, name, spec_path)
        for name in config.initial_programs
    ]
    if not programs:
        raise UserError(
            "initial_programs must list at least one program file", f"{spec_path}: initial_programs"
        )
    return Problem(
        directory=directory, config=config, description=description, initial_programs=programs,
        sources=sources, folders=folders,
    )


def _load_foreign(foreign: ForeignProblem, config_path: Path | None,
                  overrides: list[str] | tuple[str, ...]) -> Problem:
    """The problem a foreign folder amounts to; its mapped config is the lowest layer."""
    sources = config_layers(foreign.data, foreign.source, config_path, overrides)
    config = merge_layers(sources)
    where = foreign.directory  # errors below name the folder
    programs = foreign.programs
    if config.initial_programs != [name for name, _ in programs]:  # changed by --set/--config
        programs = [_read_program(foreign.directory, name, where)
                    for name in config.initial_programs]
    return Problem(
        directory=foreign.directory, config=config,
        description=config.description if config.description == foreign.data["description"]
        else _read_description(foreign.directory, config.description, where),
        initial_programs=programs, sources=sources, layout=foreign.format,
        warnings=list(foreign.warnings),
    )


def _read_description(directory: Path, value: str, spec_path: Path) -> str:
    """``description`` is inline text or the name of a file in the problem folder."""
    text = value.strip()
    if text and "\n" not in text and text.endswith((".md", ".txt")):
        path = directory / text
        if not path.exists():
            raise UserError(
                f"description file '{text}' not found in {directory}", f"{spec_path}: description"
            )
        return _read_text(path, f"{spec_path}: description")
    return value


def _read_text(path: Path, where: str) -> str:
    """A UTF-8 text file; a directory, unreadable or binary file is a UserError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise  # the callers word this themselves
    except IsADirectoryError:
        raise UserError(f"'{path.name}' is a directory, not a file", where) from None
    except OSError as exc:
        raise UserError(f"cannot read '{path.name}' ({exc.strerror})", where) from None
    except UnicodeDecodeError:
        raise UserError(f"'{path.name}' is not a text file (invalid UTF-8)", where) from None


def _read_program(directory: Path, name: str, spec_path: Path) -> tuple[str, str]:
    path = directory / name
    try:
        code = _read_text(path, f"{spec_path}: initial_programs")
    except FileNotFoundError:
        raise UserError(
            f"initial program '{name}' not found in {directory}", f"{spec_path}: initial_programs"
        ) from None
    try:
        blocks = evolve_blocks(code)
    except ValueError as exc:
        raise UserError(str(exc), str(path)) from None
    if not blocks:
        raise UserError("no '# EVOLVE-BLOCK-START' / '# EVOLVE-BLOCK-END' region found", str(path))
    return name, code


def _read_folder(
    directory: Path, name: str, spec_path: Path, languages: dict[str, str]
) -> dict[str, str]:
    """A folder program; its errors name the folder and the key that lists it."""
    try:
        return read_program_folder(directory / name, languages)
    except UserError as exc:
        raise UserError(
            f"program folder '{name}': {exc.message}", f"{spec_path}: initial_programs"
        ) from None


def find_problems(root: Path) -> list[Path]:
    """Every folder under ``root`` holding a problem.yaml, sorted."""
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.rglob(PROBLEM_FILE))


def shipped_problems_root() -> Path:
    """The ``problems/`` folder next to the package (a source checkout), else ./problems."""
    here = Path(__file__).resolve().parent.parent / "problems"
    return here if here.is_dir() else Path.cwd() / "problems"


def summary_of(directory: Path) -> dict[str, Any]:
    """Name, evaluator and first description line of a problem folder (for listings)."""
    data = read_yaml(directory / PROBLEM_FILE)
    description = str(data.get("description", ""))
    if description.endswith((".md", ".txt")) and (directory / description).is_file():
        description = (directory / description).read_text(encoding="utf-8")
    first = next((ln.strip("# ").strip() for ln in description.splitlines() if ln.strip()), "")
    return {
        "name": data.get("name", directory.name),
        "evaluator": data.get("evaluator", ""),
        "summary": first,
    }
