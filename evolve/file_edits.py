"""Edits of folder programs: every SEARCH/REPLACE block and rewrite names its file.

An answer is cut into sections at *file header* lines: a line holding only a file's
path (``main.py``, ``### fill.c``, ``File: `src/x.rs```), or a code fence whose info
string names one (```` ```c fill.c ````). Each file's sections are applied to that
file alone with :func:`evolve.edits.apply_response`, so the rules for one file (blocks,
matching, what counts as outside a block) are exactly those of single-file programs.
An edit of a file without EVOLVE-BLOCKs (context) or of a file the program does not
have is refused with a sentence saying so, like any other failed edit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import PurePosixPath

from evolve.codebase import combined_text, editable_paths
from evolve.edits import (
    MARKER_RE,
    REPLACE_RE,
    SEARCH_RE,
    EditResult,
    apply_response,
    count_changed_lines,
    static_check,
)
from evolve.languages import EXTENSIONS, FILE_NAMES, language_of

_FENCE_RE = re.compile(r"^\s*```")
_PATH_RE = re.compile(r"[\w][\w.+/-]*")
_LABEL_RE = re.compile(r"^(?:file(?:name)?|path|in|edit(?:s)?(?: to)?|changes? to)\s*[:\-]?\s*",
                       re.IGNORECASE)
_DECORATION = "#*_`'\" \t"
_MAX_HEADER_CHARS = 200


def _path_like(text: str, known: Mapping[str, str]) -> str | None:
    """``text`` when it reads as a file path: one of ``known``, or a name with a source
    extension or a known file name (so prose and code lines are not taken for paths)."""
    text = text[2:] if text.startswith("./") else text
    if text in known:
        return text
    if not _PATH_RE.fullmatch(text):
        return None
    name = PurePosixPath(text).name
    if name in FILE_NAMES or PurePosixPath(name).suffix in EXTENSIONS:
        return text
    return None


def header_path(line: str, known: Mapping[str, str]) -> str | None:
    """The path a header line names, or None when the line is not a header."""
    text = line.strip()
    if not text or len(text) > _MAX_HEADER_CHARS:
        return None
    text = _LABEL_RE.sub("", text.strip(_DECORATION))
    return _path_like(text.strip(_DECORATION).rstrip(":").strip(_DECORATION), known)


def _fence_path(line: str, known: Mapping[str, str]) -> str | None:
    """A path named in a code fence's info string (```` ```c fill.c ````, ```` ```main.py ````)."""
    info = line.strip()[3:].strip()
    for token in re.split(r"[\s:=]+", info):
        found = _path_like(token.strip(_DECORATION), known)
        if found is not None:
            return found
    return None


def file_sections(response: str, known: Mapping[str, str]) -> list[tuple[str | None, list[str]]]:
    """The answer cut at file headers: ``(path or None before the first header, lines)``.
    Lines inside SEARCH/REPLACE blocks and fenced code are never taken for headers, except
    a path line right before a SEARCH line inside a fence."""
    lines = response.splitlines()
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    in_search = in_fence = False
    for index, line in enumerate(lines):
        if in_search:
            in_search = not REPLACE_RE.match(line)
            sections[-1][1].append(line)
            continue
        if SEARCH_RE.match(line):
            in_search = True
            sections[-1][1].append(line)
            continue
        if _FENCE_RE.match(line):
            if not in_fence:
                path = _fence_path(line, known)
                if path is not None:
                    sections.append((path, []))
            in_fence = not in_fence
            sections[-1][1].append(line)
            continue
        path = header_path(line, known)
        if path is not None and in_fence:
            following = next((x for x in lines[index + 1:] if x.strip()), "")
            path = path if SEARCH_RE.match(following) else None
        if path is not None:
            sections.append((path, []))
        else:
            sections[-1][1].append(line)
    return sections


def _has_edit(lines: list[str]) -> bool:
    """SEARCH/REPLACE blocks, marker lines, or fenced code with something in it (a bare
    fence line left before a header inside the fence is not an edit)."""
    if any(SEARCH_RE.match(x) or MARKER_RE.match(x) for x in lines):
        return True
    fence = next((i for i, x in enumerate(lines) if _FENCE_RE.match(x)), None)
    return fence is not None and any(
        x.strip() and not _FENCE_RE.match(x) for x in lines[fence + 1:])


def _failed(files: Mapping[str, str], error: str) -> EditResult:
    return EditResult(ok=False, code=combined_text(files), error=error, files=dict(files))


def apply_files_response(files: Mapping[str, str], response: str, mode: str) -> EditResult:
    """Apply an answer to a folder program; ``mode`` "diff" or "rewrite" (see the module doc)."""
    editable = editable_paths(files)
    listed = ", ".join(editable)
    per_file: dict[str, list[str]] = {}
    for path, lines in file_sections(response, files):
        if not _has_edit(lines):
            continue  # prose, or a path mentioned on its own line
        if path is None:
            if len(editable) != 1:
                return _failed(files, "an edit names no file: put the path of the file it "
                               f"changes ({listed}) on its own line before its "
                               + ("SEARCH/REPLACE blocks" if mode == "diff" else "code block"))
            path = editable[0]
        if path not in files:
            return _failed(files, f"the answer edits '{path}', which is not a file of the "
                           f"program (editable files: {listed})")
        if path not in editable:
            return _failed(files, f"'{path}' has no EVOLVE-BLOCK: it is context, shown for "
                           f"reference, and cannot be changed (editable files: {listed})")
        per_file.setdefault(path, []).extend(lines)
    if not per_file:
        wanted = "SEARCH/REPLACE block" if mode == "diff" else "fenced code block"
        return _failed(files, f"no {wanted} found in the response (each after the path of "
                       f"the file it changes: {listed})")
    new_files = dict(files)
    changed = 0
    for path, lines in per_file.items():
        result = apply_response(files[path], "\n".join(lines), mode)
        if not result.ok:
            return dataclasses.replace(
                result, code=combined_text(files), error=f"{path}: {result.error}",
                files=dict(files))
        new_files[path] = result.code
        changed += count_changed_lines(files[path], result.code)
    return EditResult(ok=True, code=combined_text(new_files), error="", changed_lines=changed,
                      files=new_files)


def static_check_files(
    before: Mapping[str, str],
    after: Mapping[str, str],
    forbidden_imports: list[str],
    max_changed_lines: int | None,
    changed_lines: int,
    overrides: Mapping[str, str] | None = None,
) -> str:
    """The static gate for a folder program: the changed-line limit over all files, then
    each changed file in its own language (Python: syntax and forbidden imports)."""
    if max_changed_lines is not None and changed_lines > max_changed_lines:
        return f"edit changes {changed_lines} lines (limit {max_changed_lines})"
    for path in sorted(after):
        if before.get(path) == after[path]:
            continue
        language = language_of(path, overrides).name
        reason = static_check(after[path], forbidden_imports, None, 0, language)
        if reason:
            return f"{path}: {reason}"
    return ""
