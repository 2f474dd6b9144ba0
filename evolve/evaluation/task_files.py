"""The files of a problem folder that an evaluator copies into the sandbox's work dir.

The sandbox child sees only its work dir (and the OS and interpreter), so an evaluator
that runs there with the candidate (a foreign evaluator in compatibility mode) gets the
folder's files shipped with every run. What is left out: hidden entries, Python caches,
run folders and databases, the usual output folders of other frameworks, and links that
lead out of the folder.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path

from evolve.errors import UserError

MAX_BYTES = 64 * 1024 * 1024  # shipped with every evaluation
SKIPPED_DIRS = frozenset({
    "__pycache__", "node_modules", "venv", "runs", "results", "openevolve_output",
})
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".db", ".db-wal", ".db-shm", ".db-journal")


def _wanted(relative: str, patterns: Sequence[str] | None) -> bool:
    if patterns is None:
        return True
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def task_paths(folder: Path, patterns: Sequence[str] | None = None) -> list[str]:
    """Relative POSIX paths of the folder's files to ship, sorted; ``patterns`` (globs
    relative to the folder, e.g. ``["*.py", "data/*"]``) narrow the selection."""
    root = Path(folder).resolve()
    found: list[str] = []
    for current, dirs, files in os.walk(root, followlinks=False):
        here = Path(current)
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and d not in SKIPPED_DIRS
            and not (here / d / "run.json").is_file() and _inside(here / d, root)
        )
        for name in sorted(files):
            path = here / name
            if name.startswith(".") or name.endswith(SKIPPED_SUFFIXES):
                continue
            if not _inside(path, root) or not path.is_file():
                continue
            relative = path.relative_to(root).as_posix()
            if _wanted(relative, patterns):
                found.append(relative)
    return sorted(found)


def task_files(folder: Path, patterns: Sequence[str] | None = None, *,
               max_bytes: int = MAX_BYTES, where: str = "evaluator_args.files") -> dict[str, bytes]:
    """``{relative path: bytes}`` of :func:`task_paths`; a UserError naming ``where`` when
    they add up to more than ``max_bytes``."""
    root = Path(folder).resolve()
    shipped: dict[str, bytes] = {}
    total = 0
    for relative in task_paths(root, patterns):
        path = root / relative
        total += path.stat().st_size
        if total > max_bytes:
            raise UserError(
                f"the files of {root} add up to more than {max_bytes // (1024 * 1024)} MB, "
                "copied into the sandbox for every evaluation; list the ones the evaluator "
                "needs as globs, e.g. [\"*.py\", \"data/*.json\"]", where)
        try:
            shipped[relative] = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read '{relative}' ({exc.strerror})", str(root)) from None
    return shipped
