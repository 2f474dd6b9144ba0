"""EVOLVE-BLOCK parsing, SEARCH/REPLACE and full-block application, the static gate.

Only code between ``# EVOLVE-BLOCK-START`` and ``# EVOLVE-BLOCK-END`` may change; a
program without markers is evolvable as a whole. Every failure is reported as one
specific sentence, because it is shown to the LLM in the fix prompt.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass

MARKER_RE = re.compile(r"^\s*(?:#|//|/\*|--)\s*EVOLVE-BLOCK-(START|END)\b")
SEARCH_RE = re.compile(r"^\s*<{5,}\s*SEARCH\s*$")
DIVIDER_RE = re.compile(r"^\s*={5,}\s*$")
REPLACE_RE = re.compile(r"^\s*>{5,}\s*REPLACE\s*$")
FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)
OPEN_FENCE_RE = re.compile(r"```[^\n`]*\n(.*)\Z", re.DOTALL)


@dataclass
class EditResult:
    ok: bool
    code: str
    error: str = ""
    changed_lines: int = 0


class _EditFailure(Exception):
    pass


def evolve_blocks(code: str) -> list[tuple[int, int]]:
    """Block bodies as 0-based ``(start, end)`` line ranges: ``lines[start:end]`` is the body
    (marker lines excluded). Raises ValueError for unbalanced or nested markers."""
    blocks: list[tuple[int, int]] = []
    open_at: int | None = None
    for index, line in enumerate(code.splitlines()):
        match = MARKER_RE.match(line)
        if not match:
            continue
        if match.group(1) == "START":
            if open_at is not None:
                raise ValueError(
                    f"EVOLVE-BLOCK-START on line {index + 1} opens a block inside the block "
                    f"opened on line {open_at + 1}"
                )
            open_at = index
        else:
            if open_at is None:
                raise ValueError(f"EVOLVE-BLOCK-END on line {index + 1} has no EVOLVE-BLOCK-START")
            blocks.append((open_at + 1, index))
            open_at = None
    if open_at is not None:
        raise ValueError(f"EVOLVE-BLOCK-START on line {open_at + 1} has no EVOLVE-BLOCK-END")
    return blocks


def editable_ranges(code: str) -> list[tuple[int, int]]:
    """The EVOLVE-BLOCK bodies, or the whole program when it has no markers."""
    return evolve_blocks(code) or [(0, len(code.splitlines()))]


def count_changed_lines(before: str, after: str) -> int:
    """Lines removed, added or replaced (a replaced run counts its longer side)."""
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), autojunk=False)
    changed = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changed += max(i2 - i1, j2 - j1)
    return changed


def _join(lines: list[str], trailing_newline: bool) -> str:
    return "\n".join(lines) + ("\n" if trailing_newline and lines else "")


# ---------------------------------------------------------------- SEARCH/REPLACE


def parse_search_replace(response: str) -> list[tuple[list[str], list[str]]]:
    """All SEARCH/REPLACE pairs in a response; prose and code fences around them are ignored."""
    pairs: list[tuple[list[str], list[str]]] = []
    state = "outside"
    search: list[str] = []
    replace: list[str] = []
    for line in response.splitlines():
        if state == "outside":
            if SEARCH_RE.match(line):
                state, search, replace = "search", [], []
        elif state == "search":
            if DIVIDER_RE.match(line):
                state = "replace"
            elif SEARCH_RE.match(line) or REPLACE_RE.match(line):
                raise _EditFailure(f"SEARCH block {len(pairs) + 1} has no ======= divider")
            else:
                search.append(line)
        elif REPLACE_RE.match(line):
            pairs.append((search, replace))
            state = "outside"
        elif SEARCH_RE.match(line):
            raise _EditFailure(f"SEARCH block {len(pairs) + 1} is not closed with >>>>>>> REPLACE")
        else:
            replace.append(line)
    if state != "outside":
        raise _EditFailure(f"SEARCH block {len(pairs) + 1} is not closed with >>>>>>> REPLACE")
    return pairs


def _trim_blank_edges(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _locate(lines: list[str], search: list[str], number: int) -> tuple[int, int, list[str]]:
    """Where ``search`` matches exactly once: exact, then ignoring trailing whitespace,
    then ignoring indentation. Returns (start, length, search lines as matched)."""
    trimmed = _trim_blank_edges(search)
    if not trimmed:
        raise _EditFailure(f"SEARCH block {number} is empty")
    candidates = [
        (search, lambda s: s),
        (trimmed, lambda s: s.rstrip()),
        (trimmed, lambda s: s.strip()),
    ]
    for pattern, norm in candidates:
        wanted = [norm(s) for s in pattern]
        k = len(wanted)
        normalised = [norm(s) for s in lines]
        hits = [i for i in range(len(lines) - k + 1) if normalised[i : i + k] == wanted]
        if len(hits) == 1:
            return hits[0], k, pattern
        if len(hits) > 1:
            where = ", ".join(str(h + 1) for h in hits[:5])
            raise _EditFailure(
                f"SEARCH block {number} matches {len(hits)} places in the parent program "
                f"(lines {where}); include more context so it matches exactly once"
            )
    raise _EditFailure(f"SEARCH block {number} did not match the parent program")


def _reindent(replace: list[str], search_first: str, matched_first: str) -> list[str]:
    """Shift REPLACE lines by the indentation difference found while matching."""
    have, want = _indent(search_first), _indent(matched_first)
    if have == want:
        return replace
    out = []
    for line in replace:
        if not line.strip():
            out.append(line)
        elif line.startswith(have):
            out.append(want + line[len(have) :])
        else:
            out.append(want + line.lstrip())
    return out


def _apply_diff(parent_code: str, response: str) -> str:
    pairs = parse_search_replace(response)
    if not pairs:
        raise _EditFailure("no SEARCH/REPLACE block found in the response")
    lines = parent_code.splitlines()
    for number, (search, replace) in enumerate(pairs, start=1):
        if any(MARKER_RE.match(line) for line in replace):
            raise _EditFailure(f"REPLACE block {number} contains an EVOLVE-BLOCK marker")
        start, length, pattern = _locate(lines, search, number)
        ranges = editable_ranges(_join(lines, True))
        inside = [(s, e) for s, e in ranges if s <= start < e]
        block_end = inside[0][1] if inside else start
        if not inside or start + length > block_end:
            outside_line = start if not inside else block_end
            raise _EditFailure(
                f"SEARCH block {number} touches lines outside the EVOLVE-BLOCK "
                f"(line {outside_line + 1})"
            )
        first = next((i for i, s in enumerate(pattern) if s.strip()), 0)
        replacement = _reindent(
            _trim_edges_like(replace, search, pattern), pattern[first], lines[start + first]
        )
        lines[start : start + length] = replacement
    return _join(lines, parent_code.endswith("\n"))


def _trim_edges_like(replace: list[str], search: list[str], pattern: list[str]) -> list[str]:
    """When matching dropped blank edge lines of SEARCH, drop them from REPLACE too."""
    return _trim_blank_edges(replace) if len(pattern) != len(search) else replace


# ---------------------------------------------------------------- full rewrites


def _extract_code(response: str) -> str:
    blocks = FENCE_RE.findall(response)
    if not blocks:
        tail = OPEN_FENCE_RE.search(response)  # a fence the model never closed
        if tail:
            blocks = [tail.group(1)]
    if not blocks:
        if any(MARKER_RE.match(line) for line in response.splitlines()):
            return response
        raise _EditFailure("no fenced code block (```python ... ```) found in the response")
    with_markers = [b for b in blocks if any(MARKER_RE.match(x) for x in b.splitlines())]
    return max(with_markers or blocks, key=len)


def _segments_outside(lines: list[str], blocks: list[tuple[int, int]]) -> list[list[str]]:
    cuts = [0] + [edge for s, e in blocks for edge in (s, e)] + [len(lines)]
    return [lines[cuts[i] : cuts[i + 1]] for i in range(0, len(cuts), 2)]


def _apply_rewrite(parent_code: str, response: str) -> str:
    code = _extract_code(response)
    parent_lines = parent_code.splitlines()
    parent_blocks = evolve_blocks(parent_code)
    new_lines = code.splitlines()
    if not parent_blocks:
        return _join(new_lines, parent_code.endswith("\n"))
    try:
        new_blocks = evolve_blocks(code)
    except ValueError as exc:
        raise _EditFailure(f"rewritten program: {exc}") from None
    if not new_blocks:
        if len(parent_blocks) != 1:
            raise _EditFailure(
                f"the program has {len(parent_blocks)} EVOLVE-BLOCKs: rewrite the full program "
                "with its EVOLVE-BLOCK markers"
            )
        bodies = [_match_indent(new_lines, parent_lines[parent_blocks[0][0] : parent_blocks[0][1]])]
    else:
        if len(new_blocks) != len(parent_blocks):
            raise _EditFailure(
                f"the rewrite has {len(new_blocks)} EVOLVE-BLOCKs but the program has "
                f"{len(parent_blocks)}"
            )
        old_outside = _segments_outside(parent_lines, parent_blocks)
        new_outside = _segments_outside(new_lines, new_blocks)
        offsets = [0] + [e for _, e in new_blocks]
        for index, (old, new) in enumerate(zip(old_outside, new_outside)):
            edge_old, edge_new = old, new
            if index == 0:
                edge_old, edge_new = _lstrip_blank(old), _lstrip_blank(new)
            if index == len(old_outside) - 1:
                edge_old, edge_new = _trim_blank_edges(edge_old), _trim_blank_edges(edge_new)
            if [s.rstrip() for s in edge_old] != [s.rstrip() for s in edge_new]:
                differs = next(
                    (
                        i
                        for i, (a, b) in enumerate(zip(edge_old, edge_new))
                        if a.rstrip() != b.rstrip()
                    ),
                    min(len(edge_old), len(edge_new)),
                )
                shift = len(new) - len(edge_new) if index == 0 else 0
                line = offsets[index] + shift + differs + 1
                raise _EditFailure(
                    f"the rewrite changes code outside the EVOLVE-BLOCK (line {line} of the "
                    "rewritten program); only the code between the markers may change"
                )
        bodies = [new_lines[s:e] for s, e in new_blocks]
    out: list[str] = []
    cursor = 0
    for (start, end), body in zip(parent_blocks, bodies):
        out.extend(parent_lines[cursor:start])
        out.extend(body)
        cursor = end
    out.extend(parent_lines[cursor:])
    return _join(out, parent_code.endswith("\n"))


def _lstrip_blank(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    return lines[start:]


def _match_indent(body: list[str], parent_body: list[str]) -> list[str]:
    """A body given without the block's indentation is shifted to it."""

    def min_indent(lines: list[str]) -> int:
        widths = [len(_indent(x)) for x in lines if x.strip()]
        return min(widths) if widths else 0

    missing = min_indent(parent_body) - min_indent(body)
    if missing <= 0:
        return body
    pad = " " * missing
    return [pad + line if line.strip() else line for line in body]


# ---------------------------------------------------------------- entry points


def apply_response(parent_code: str, response: str, mode: str) -> EditResult:
    """Apply an LLM response to the parent: ``mode`` "diff" (SEARCH/REPLACE) or "rewrite"."""
    try:
        evolve_blocks(parent_code)
        if mode == "diff":
            code = _apply_diff(parent_code, response)
        elif mode == "rewrite":
            code = _apply_rewrite(parent_code, response)
        else:
            raise _EditFailure(f"unknown edit mode {mode!r} (expected 'diff' or 'rewrite')")
    except (_EditFailure, ValueError) as exc:
        return EditResult(ok=False, code=parent_code, error=str(exc))
    # Compared by lines: results are joined with "\n", so a CRLF parent differs in bytes only.
    if code.splitlines() == parent_code.splitlines():
        return EditResult(ok=False, code=parent_code, error="edit leaves the program unchanged")
    return EditResult(
        ok=True, code=code, error="", changed_lines=count_changed_lines(parent_code, code)
    )


def _imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            found.extend((f"{node.module}.{a.name}", node.lineno) for a in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = getattr(func, "id", "") or getattr(func, "attr", "")
            first = node.args[0]
            value = first.value if isinstance(first, ast.Constant) else None
            if name in ("__import__", "import_module") and isinstance(value, str):
                found.append((value, node.lineno))
    return found


def static_check(
    code: str,
    forbidden_imports: list[str],
    max_changed_lines: int | None,
    changed_lines: int,
    language: str = "python",
) -> str:
    """ "" when the candidate passes the gate, else one line saying why not."""
    if max_changed_lines is not None and changed_lines > max_changed_lines:
        return f"edit changes {changed_lines} lines (limit {max_changed_lines})"
    if language != "python":
        return ""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"syntax error on line {exc.lineno}: {exc.msg}"
    for module, line in _imported_modules(tree):
        for banned in forbidden_imports:
            if module == banned or module.startswith(banned + "."):
                banned_list = ", ".join(forbidden_imports)
                return f"forbidden import '{module}' on line {line} (forbidden: {banned_list})"
    return ""
