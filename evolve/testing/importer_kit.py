"""Conformance kit for importers (call it from your own tests).

    from evolve.testing.importer_kit import check_importer

    def test_my_format_imports(tmp_path):
        folders = check_importer("myformat", [source_a, source_b], tmp_path)

It runs the importer the way ``evolve import`` does and asserts the contract: one
problem folder per source (the output folder itself for one source), each loads as a
problem with its initial programs and an evaluator that accepts its arguments, nothing
is written outside the output folder, and an existing folder is refused with a
``UserError`` unless ``overwrite``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evolve.errors import UserError
from evolve.evaluation.registry import create_evaluator
from evolve.importers import IMPORTERS, Importer
from evolve.problem import load_problem


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def check_importer(format_name: str, sources: Sequence[Path], workdir: Path,
                   args: dict[str, Any] | None = None) -> list[Path]:
    """Import ``sources`` under ``workdir`` and check the importer's contract; returns the
    problem folders written."""
    importer = IMPORTERS.create(format_name, dict(args or {}), "import", "format")
    assert isinstance(importer, Importer), f"{format_name}: not an Importer"
    workdir = Path(workdir)
    output = workdir / "imported"
    before = _files(workdir)
    folders = importer.import_problems(list(sources), output)
    assert len(folders) == len(sources), "one problem folder per source"
    if len(sources) == 1:
        assert Path(folders[0]) == output, "with one source, the output is the problem folder"
    for folder in folders:
        assert Path(folder).resolve().is_relative_to(output.resolve()), \
            f"{folder} is outside the output folder"
        problem = load_problem(folder)
        assert problem.initial_programs, f"{folder}: no initial program"
        create_evaluator(problem.config.evaluator, problem.directory,
                         dict(problem.config.evaluator_args))
    outside = {p for p in _files(workdir) - before if not p.resolve().is_relative_to(
        output.resolve())}
    assert not outside, f"files written outside the output folder: {sorted(outside)}"
    try:
        importer.import_problems(list(sources), output)
    except UserError:
        pass
    else:
        raise AssertionError("importing over existing folders must need overwrite")
    again = importer.import_problems(list(sources), output, overwrite=True)
    assert [Path(f) for f in again] == [Path(f) for f in folders]
    return [Path(f) for f in folders]
