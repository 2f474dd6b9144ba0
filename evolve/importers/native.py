"""A foreign folder (evolve.foreign) written out as a native problem folder.

The new folder holds problem.yaml (the mapped config, with what did not carry over as
comments), description.md, the initial program (with EVOLVE-BLOCK markers) and a copy of
the folder's other files, so the foreign evaluator still finds its data and helpers. It
keeps that evaluator, in compatibility mode; docs/importing.md shows how to port it.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from evolve.errors import UserError
from evolve.evaluation.registry import create_evaluator
from evolve.evaluation.task_files import task_paths
from evolve.evaluation.types import COMPATIBILITY_NOTE
from evolve.foreign import FolderLayout, ForeignProblem
from evolve.importers import problem_folders, slug
from evolve.problem import PROBLEM_FILE, load_problem

DESCRIPTION_FILE = "description.md"
PROBLEM_KEYS = ("name", "description", "initial_programs", "evaluator", "evaluator_args",
                "constraints")


def header(foreign: ForeignProblem) -> str:
    """problem.yaml's opening comments: where it came from, its trust, what was dropped."""
    lines = [
        f"Imported from the {foreign.title} folder {foreign.directory}",
        f"Its evaluator runs beside the candidate in the sandbox ({COMPATIBILITY_NOTE});",
        "docs/importing.md, 'Porting to a native evaluator', shows how to make it trusted.",
    ]
    if foreign.warnings:
        lines.append("Not carried over, or carried over with a difference:")
        lines += [f"  {warning}" for warning in foreign.warnings]
    return "".join(f"# {line}\n" for line in lines)


def without_empty(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without empty sections (nothing mapped into them)."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "evaluator_args":
            value = without_empty(value)
            if not value:
                continue
        kept[key] = value
    return kept


def write_native(foreign: ForeignProblem, folder: Path, overwrite: bool) -> Path:
    """Write ``foreign`` as a problem folder at ``folder``; returns it."""
    folder = Path(folder)
    if folder.resolve() == foreign.directory.resolve():
        raise UserError("is the folder being imported; give another output folder", str(folder))
    if folder.exists() and not folder.is_dir():
        raise UserError("exists and is not a folder", str(folder))
    if folder.exists() and any(folder.iterdir()):
        if not overwrite:
            raise UserError("exists and is not empty (use --force to replace it)", str(folder))
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for relative in task_paths(foreign.directory):
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(foreign.directory / relative, target)
    for name, code in foreign.programs:
        (folder / name).write_text(code, encoding="utf-8")
    data: dict[str, Any] = {**without_empty(foreign.data), "name": slug(folder.resolve().name)}
    (folder / DESCRIPTION_FILE).write_text(str(data["description"]).rstrip() + "\n",
                                           encoding="utf-8")
    data["description"] = DESCRIPTION_FILE
    data = {**{k: data[k] for k in PROBLEM_KEYS if k in data}, **data}  # problem keys first
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    (folder / PROBLEM_FILE).write_text(header(foreign) + text, encoding="utf-8")
    problem = load_problem(folder)  # the folder loads, and its evaluator takes its arguments
    create_evaluator(problem.config.evaluator, problem.directory,
                     dict(problem.config.evaluator_args))
    return folder


def import_folders(layout: FolderLayout, sources: Sequence[Path], output: Path,
                   overwrite: bool) -> tuple[list[Path], list[str]]:
    """Each source folder read by ``layout`` and written out; (folders, warnings)."""
    written: list[Path] = []
    warnings: list[str] = []
    for source, folder in problem_folders(sources, output):
        if not Path(source).is_dir() or not layout.recognises(Path(source)):
            raise UserError(f"not a {layout.title} folder (see docs/importing.md for the "
                            "files one holds)", str(source))
        foreign = layout.read(Path(source))
        written.append(write_native(foreign, folder, overwrite))
        warnings += foreign.warnings
    return written, warnings
