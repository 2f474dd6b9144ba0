"""A program record from an evaluation (the one place that copies a result into a record),
and the best program written into the run folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from evolve.codebase import safe_relative
from evolve.database.records import ProgramRecord
from evolve.evaluation.types import EvaluationResult


def evaluated_program(
    run_id: str,
    program_id: str,
    code: str,
    result: EvaluationResult,
    *,
    island: int,
    origin: str,
    parent: ProgramRecord | None = None,
    iteration: int = 0,
    model: str = "",
    changed_lines: int = 0,
    files: dict[str, str] | None = None,
) -> ProgramRecord:
    """``files``: a folder program's files (``code`` is their combined text)."""
    return ProgramRecord(
        id=program_id,
        run_id=run_id,
        code=code,
        parent_id=parent.id if parent is not None else None,
        island=island,
        generation=parent.generation + 1 if parent is not None else 0,
        iteration=iteration,
        valid=result.valid,
        score=result.score if result.valid else None,
        metrics=result.metrics,
        instances=result.instances,
        holdout=result.holdout,
        artifacts=result.artifacts,
        reason=result.reason,
        origin=origin,
        model=model,
        changed_lines=changed_lines,
        eval_s=float(result.metrics.get("eval_s", 0.0)),
        files=dict(files or {}),
    )


def write_best_program(run_dir: Path, best: ProgramRecord) -> Path:
    """``best_program.py`` in the run folder, or for a folder program ``best_program/``
    holding every file (a path that would leave the folder is skipped)."""
    if not best.files:
        target = run_dir / "best_program.py"
        target.write_text(best.code, encoding="utf-8")
        return target
    folder = run_dir / "best_program"
    shutil.rmtree(folder, ignore_errors=True)
    for path, text in best.files.items():
        if safe_relative(path):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_text(text, encoding="utf-8")
    return folder
