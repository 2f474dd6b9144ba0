"""Folder programs: a set of text files, EVOLVE-BLOCKs in any of them.

A program is either one file (``ProgramRecord.code``, ``files`` empty) or a folder,
held as ``files``: relative posix path -> text. Files with EVOLVE-BLOCK markers are
editable (only between the markers); the others are context, shown to the model but
never changed. :func:`combined_text` is the canonical single-text view of a folder
(what code that only needs text reads: similarity, features, duplicate checks).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from evolve.edits import evolve_blocks
from evolve.errors import UserError
from evolve.languages import check_overrides, language_of, marker_problem

FILE_HEADER = "==> {path} <=="  # the line before each file in combined_text (as `head` writes)
MAX_FILES = 200
MAX_BYTES = 2_000_000  # all files of a program folder together
SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", "node_modules", "target"})
# The build step's own program in the sandbox work folder (evolve.evaluation.build).
RESERVED_NAMES = frozenset({"_evolve_build.py", "_evolve_build_output.txt"})


def combined_text(files: Mapping[str, str]) -> str:
    """Every file, sorted by path, each after a ``==> path <==`` line."""
    parts: list[str] = []
    for path in sorted(files):
        text = files[path]
        parts.append(FILE_HEADER.format(path=path) + "\n")
        parts.append(text if not text or text.endswith("\n") else text + "\n")
    return "".join(parts)


def evolving_text(files: Mapping[str, str], code: str = "") -> str:
    """The text that changes between programs: a folder program's editable files
    (combined), or ``code`` for a single-file program (``files`` empty). Similarity
    measures read this, so identical context files do not make every pair look alike."""
    if not files:
        return code
    return combined_text({path: files[path] for path in editable_paths(files)})


def editable_paths(files: Mapping[str, str]) -> list[str]:
    """Paths of the files holding at least one EVOLVE-BLOCK, sorted (unbalanced: skipped)."""
    found = []
    for path in sorted(files):
        try:
            if evolve_blocks(files[path]):
                found.append(path)
        except ValueError:
            continue
    return found


def files_diff(before: Mapping[str, str], after: Mapping[str, str], context: int = 3,
               label: tuple[str, str] = ("a", "b")) -> list[str]:
    """A unified diff per changed file (added and removed files too), in path order;
    ``label`` prefixes the paths in the ``---``/``+++`` lines."""
    lines: list[str] = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        lines.extend(difflib.unified_diff(
            (old or "").splitlines(), (new or "").splitlines(),
            fromfile=f"{label[0]}/{path}" if old is not None else "/dev/null",
            tofile=f"{label[1]}/{path}" if new is not None else "/dev/null",
            lineterm="", n=context))
    return lines


def with_file(files: Mapping[str, str], path: str, text: str) -> dict[str, str]:
    """A copy of ``files`` with ``path`` replaced (it must exist: programs keep their files)."""
    if path not in files:
        raise KeyError(f"no file {path!r} in the program")
    return {**files, path: text}


def safe_relative(path: str) -> bool:
    """A relative posix path without '..', empty parts, a leading '/' or a NUL."""
    pure = PurePosixPath(path)
    return bool(path) and "\x00" not in path and not pure.is_absolute() and all(
        p not in ("", ".", "..") for p in path.split("/"))


def check_program_files(files: Mapping[str, str], overrides: Mapping[str, str] | None,
                        where: str) -> None:
    """Every file's markers are balanced and in its language's comment syntax, and at
    least one file has a block; UserError (naming ``where``) otherwise."""
    problem = check_overrides(overrides or {})
    if problem:
        raise UserError(problem, "languages")
    for path, text in files.items():
        if path in RESERVED_NAMES:
            raise UserError(f"'{path}' is a name evolve uses in the sandbox; rename the file",
                            where)
        problem = marker_problem(path, text, language_of(path, overrides))
        if problem:
            raise UserError(problem, where)
        try:
            evolve_blocks(text)
        except ValueError as exc:
            raise UserError(f"{path}: {exc}", where) from None
    if not editable_paths(files):
        raise UserError("no file has an EVOLVE-BLOCK-START / EVOLVE-BLOCK-END region (mark "
                        "what may change in at least one file)", where)


def read_program_folder(directory: Path, overrides: Mapping[str, str] | None = None) -> dict[
        str, str]:
    """The text files under ``directory`` (hidden files, ``__pycache__`` and the like
    skipped), checked with :func:`check_program_files`. UserError names what is wrong."""
    where = str(directory)
    files: dict[str, str] = {}
    total = 0
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        for name in sorted(names):
            if name.startswith(".") or name.endswith((".pyc", ".pyo")):
                continue
            full = Path(root) / name
            relative = full.relative_to(directory).as_posix()
            if full.is_symlink():
                raise UserError(f"'{relative}' is a symbolic link; put a copy of the file in the "
                                "program folder instead", where)
            total += full.stat().st_size
            if len(files) >= MAX_FILES or total > MAX_BYTES:
                raise UserError(f"holds more than {MAX_FILES} files or {MAX_BYTES:,} bytes; "
                                "keep data and build outputs elsewhere", where)
            try:
                files[relative] = full.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise UserError(f"'{relative}' is not a text file (invalid UTF-8); a program "
                                "folder holds source files only (delete build outputs, keep "
                                "data in the problem folder)", where) from None
            except OSError as exc:
                raise UserError(f"cannot read '{relative}' ({exc.strerror})", where) from None
    if not files:
        raise UserError("holds no files (a program folder holds the program's source files)",
                        where)
    check_program_files(files, overrides, where)
    return files
