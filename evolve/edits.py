"""EVOLVE-BLOCK parsing, SEARCH/REPLACE and full-block application, the static gate.

Only code between ``# EVOLVE-BLOCK-START`` and ``# EVOLVE-BLOCK-END`` may change; a
program without markers is evolvable as a whole. Every failure is reported as one
specific sentence, because it is shown to the LLM in the fix prompt, and with its kind
(``EditResult.kind``), because runs count their failures by kind.

Answers that are nearly right are read forgivingly where only one reading is possible
(``EditResult.lenient`` names each reading used): a SEARCH section matching only modulo
whitespace (blank lines, spacing, indentation) in exactly one place; SEARCH and REPLACE
sections that both carry the same EVOLVE-BLOCK marker lines at their edges; a whole
program in a code block where SEARCH/REPLACE was asked, whose code outside the blocks
is the parent's; a rewrite that repeats the code around the block, or changes only the
whitespace outside it. Anything else stays a failure.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from evolve.loose_match import (
    find_loose,
    first_difference,
    same_modulo_whitespace,
    squash,
    strip_repeats,
)

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
    # A folder program's files after the edit (``code`` is then their combined text);
    # empty for a single-file program. See evolve/file_edits.py.
    files: dict[str, str] = field(default_factory=dict)
    kind: str = ""  # of a failure: one of FAILURE_KINDS
    lenient: list[str] = field(default_factory=list)  # forgiving readings used (LENIENT_READINGS)


FAILURE_KINDS = {
    "no_edit": "no SEARCH/REPLACE block or code block found",
    "malformed": "a SEARCH/REPLACE block is incomplete",
    "no_match": "a SEARCH section matches nothing",
    "ambiguous": "a SEARCH section matches several places",
    "outside_block": "the edit changes code outside the EVOLVE-BLOCKs",
    "markers": "the EVOLVE-BLOCK markers are missing or unbalanced",
    "unchanged": "the edit leaves the program unchanged",
    "bad_parent": "the parent program's markers are unbalanced",
    "bad_mode": "unknown edit mode",
}
LENIENT_READINGS = {
    "loose_match": "a SEARCH section matched modulo whitespace",
    "markers_in_search": "SEARCH and REPLACE carried the EVOLVE-BLOCK markers",
    "whole_program": "a whole program was given where SEARCH/REPLACE was asked",
    "repeated_outside": "a rewrite repeated the code around the EVOLVE-BLOCK",
    "outside_whitespace": "a rewrite changed only whitespace outside the EVOLVE-BLOCK",
}


class _EditFailure(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


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
                raise _EditFailure(
                    "malformed", f"SEARCH block {len(pairs) + 1} has no ======= divider"
                )
            else:
                search.append(line)
        elif REPLACE_RE.match(line):
            pairs.append((search, replace))
            state = "outside"
        elif SEARCH_RE.match(line):
            raise _EditFailure(
                "malformed", f"SEARCH block {len(pairs) + 1} is not closed with >>>>>>> REPLACE"
            )
        else:
            replace.append(line)
    if state != "outside":
        raise _EditFailure(
            "malformed", f"SEARCH block {len(pairs) + 1} is not closed with >>>>>>> REPLACE"
        )
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


@dataclass
class _Match:
    """Where a SEARCH section matched: ``lines[start:start + length]``."""

    start: int
    length: int
    anchor: str  # the SEARCH section's first non-blank line as written (REPLACE follows it)
    trimmed: bool  # blank lines at the SEARCH section's edges are not part of the match


def _locate(lines: list[str], search: list[str], number: int, lenient: list[str]) -> _Match:
    """Where ``search`` matches exactly once: exact, then ignoring trailing whitespace,
    then ignoring indentation, then modulo whitespace (``_locate_loose``)."""
    trimmed = _trim_blank_edges(search)
    if not trimmed:
        raise _EditFailure("malformed", f"SEARCH block {number} is empty")
    candidates: list[tuple[list[str], Callable[[str], str]]] = [
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
            return _Match(hits[0], k, trimmed[0], pattern is trimmed and trimmed != search)
        if len(hits) > 1:
            raise _ambiguous(number, hits)
    match = _locate_loose(lines, trimmed, number)
    _note(lenient, "loose_match")
    return match


def _ambiguous(number: int, hits: list[int]) -> _EditFailure:
    where = ", ".join(str(h + 1) for h in hits[:5])
    return _EditFailure(
        "ambiguous",
        f"SEARCH block {number} matches {len(hits)} places in the parent program "
        f"(lines {where}); include more context so it matches exactly once",
    )


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


def _apply_diff(parent_code: str, response: str, lenient: list[str]) -> str:
    pairs = parse_search_replace(response)
    if not pairs:
        raise _EditFailure("no_edit", "no SEARCH/REPLACE block found in the response")
    lines = parent_code.splitlines()
    for number, (search, replace) in enumerate(pairs, start=1):
        match = _locate_with_markers(lines, search, replace, number, lenient)
        if match is None:
            if any(MARKER_RE.match(line) for line in replace):
                raise _EditFailure(
                    "outside_block", f"REPLACE block {number} contains an EVOLVE-BLOCK marker"
                )
            match = _locate(lines, search, number, lenient)
        else:
            first_kept, end_kept, _ = _inside_edge_markers(replace)
            replace = replace[first_kept:end_kept]
            if any(MARKER_RE.match(line) for line in replace):
                raise _EditFailure(
                    "outside_block", f"REPLACE block {number} contains an EVOLVE-BLOCK marker"
                )
        start, length = match.start, match.length
        ranges = editable_ranges(_join(lines, True))
        inside = [(s, e) for s, e in ranges if s <= start < e or s == start == e]
        block_end = inside[0][1] if inside else start
        if not inside or start + length > block_end:
            outside_line = start if not inside else block_end
            raise _EditFailure(
                "outside_block",
                f"SEARCH block {number} touches lines outside the EVOLVE-BLOCK "
                f"(line {outside_line + 1})",
            )
        region = lines[start : start + length]
        first = next((i for i, s in enumerate(region) if s.strip()), None)
        if match.trimmed:  # blank edge lines of SEARCH were not matched: none in REPLACE either
            replace = _trim_blank_edges(replace)
        if first is not None:
            replace = _reindent(replace, match.anchor, lines[start + first])
        lines[start : start + length] = replace
    return _join(lines, parent_code.endswith("\n"))


# ---------------------------------------------------------------- full rewrites


def _extract_code(response: str) -> str:
    blocks: list[str] = FENCE_RE.findall(response)
    if not blocks:
        tail = OPEN_FENCE_RE.search(response)  # a fence the model never closed
        if tail:
            blocks = [tail.group(1)]
    if not blocks:
        if any(MARKER_RE.match(line) for line in response.splitlines()):
            return response
        raise _EditFailure(
            "no_edit", "no fenced code block (```python ... ```) found in the response"
        )
    with_markers = [b for b in blocks if any(MARKER_RE.match(x) for x in b.splitlines())]
    return max(with_markers or blocks, key=len)


def _segments_outside(lines: list[str], blocks: list[tuple[int, int]]) -> list[list[str]]:
    cuts = [0] + [edge for s, e in blocks for edge in (s, e)] + [len(lines)]
    return [lines[cuts[i] : cuts[i + 1]] for i in range(0, len(cuts), 2)]


def _apply_rewrite(parent_code: str, response: str, lenient: list[str]) -> str:
    return _rewrite_blocks(parent_code, _extract_code(response), lenient)


def _rewrite_blocks(parent_code: str, code: str, lenient: list[str],
                    whole_program: bool = False) -> str:
    """The parent with its block bodies taken from ``code`` (a rewritten program, or for a
    one-block parent the new body); ``whole_program``: ``code`` must be a whole program."""
    parent_lines = parent_code.splitlines()
    parent_blocks = evolve_blocks(parent_code)
    new_lines = code.splitlines()
    if not parent_blocks:
        return _join(new_lines, parent_code.endswith("\n"))
    try:
        new_blocks = evolve_blocks(code)
    except ValueError as exc:
        raise _EditFailure("markers", f"rewritten program: {exc}") from None
    if not new_blocks:
        if len(parent_blocks) != 1:
            raise _EditFailure(
                "markers",
                f"the program has {len(parent_blocks)} EVOLVE-BLOCKs: rewrite the full program "
                "with its EVOLVE-BLOCK markers",
            )
        body = _body_without_repeats(parent_lines, parent_blocks[0], new_lines, lenient,
                                     whole_program)
        bodies = [_match_indent(body, parent_lines[parent_blocks[0][0] : parent_blocks[0][1]])]
    else:
        if len(new_blocks) != len(parent_blocks):
            raise _EditFailure(
                "markers",
                f"the rewrite has {len(new_blocks)} EVOLVE-BLOCKs but the program has "
                f"{len(parent_blocks)}",
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
                if same_modulo_whitespace(old, new):  # the parent's text is kept anyway
                    _note(lenient, "outside_whitespace")
                    continue
                line = offsets[index] + first_difference(old, new) + 1
                raise _EditFailure(
                    "outside_block",
                    f"the rewrite changes code outside the EVOLVE-BLOCK (line {line} of the "
                    "rewritten program); only the code between the markers may change",
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
    lenient: list[str] = []
    try:
        try:
            evolve_blocks(parent_code)
        except ValueError as exc:
            raise _EditFailure("bad_parent", str(exc)) from None
        if mode == "diff":
            try:
                code = _apply_diff(parent_code, response, lenient)
            except _EditFailure as exc:
                if exc.kind != "no_edit":
                    raise
                code = _whole_program_for_diff(parent_code, response, exc, lenient)
        elif mode == "rewrite":
            code = _apply_rewrite(parent_code, response, lenient)
        else:
            raise _EditFailure(
                "bad_mode", f"unknown edit mode {mode!r} (expected 'diff' or 'rewrite')"
            )
    except _EditFailure as exc:
        return EditResult(ok=False, code=parent_code, error=str(exc), kind=exc.kind)
    # Compared by lines: results are joined with "\n", so a CRLF parent differs in bytes only.
    if code.splitlines() == parent_code.splitlines():
        return EditResult(ok=False, code=parent_code, error="edit leaves the program unchanged",
                          kind="unchanged")
    return EditResult(
        ok=True, code=code, error="", changed_lines=count_changed_lines(parent_code, code),
        lenient=lenient,
    )


# ---------------------------------------------------------------- forgiving readings


def _note(lenient: list[str], reading: str) -> None:
    if reading not in lenient:
        lenient.append(reading)


def _locate_loose(lines: list[str], search: list[str], number: int) -> _Match:
    """``search`` matched modulo whitespace (blank lines and spacing ignored), if in
    exactly one place. The match is marked ``trimmed``: it starts and ends on non-blank
    lines, so REPLACE loses its blank edge lines too."""
    hits = find_loose(lines, search)
    if len(hits) > 1:
        raise _ambiguous(number, [start for start, _ in hits])
    if not hits:
        raise _EditFailure("no_match", f"SEARCH block {number} did not match the parent program")
    start, end = hits[0]
    return _Match(start, end - start, _trim_blank_edges(search)[0], trimmed=True)


def _inside_edge_markers(lines: list[str]) -> tuple[int, int, list[str]]:
    """``(start, end, markers)``: ``lines[start:end]`` is what lies between the
    EVOLVE-BLOCK marker lines at the (non-blank) edges of ``lines``; ``markers`` are those
    lines, whitespace squashed."""
    body = [i for i, line in enumerate(lines) if line.strip()]
    head, tail = 0, len(body)
    while head < tail and MARKER_RE.match(lines[body[head]]):
        head += 1
    while tail > head and MARKER_RE.match(lines[body[tail - 1]]):
        tail -= 1
    markers = [squash(lines[i]) for i in body[:head] + body[tail:]]
    start = body[head - 1] + 1 if head else 0
    end = body[tail] if tail < len(body) else len(lines)
    return start, end, markers


def _locate_with_markers(lines: list[str], search: list[str], replace: list[str], number: int,
                         lenient: list[str]) -> _Match | None:
    """A SEARCH section that starts or ends with EVOLVE-BLOCK marker lines: matched with
    them (so they anchor it), then narrowed to what lies between them. REPLACE must carry
    the same marker lines at the same edges; None when SEARCH has no edge markers."""
    inner_start, inner_end, markers = _inside_edge_markers(search)
    if not markers:
        return None
    if _inside_edge_markers(replace)[2] != markers:
        raise _EditFailure(
            "outside_block",
            f"SEARCH block {number} includes EVOLVE-BLOCK marker lines but its REPLACE does "
            "not repeat them at the same place; markers cannot be moved or removed",
        )
    match = _locate(lines, search, number, lenient)
    start, end, _ = _inside_edge_markers(lines[match.start : match.start + match.length])
    _note(lenient, "markers_in_search")
    inner = search[inner_start:inner_end]
    anchor = next((line for line in inner if line.strip()), match.anchor)
    return _Match(match.start + start, end - start, anchor, match.trimmed)


def _body_without_repeats(parent_lines: list[str], block: tuple[int, int], new_lines: list[str],
                          lenient: list[str], whole_program: bool) -> list[str]:
    """A marker-less rewrite of a one-block program: the new body, with a repeated copy of
    the code before and after the block cut off."""
    before, after = parent_lines[: block[0] - 1], parent_lines[block[1] + 1 :]
    stripped = strip_repeats(new_lines, before, after)
    if stripped.body is None:
        raise _EditFailure(
            "markers",
            f"the rewrite has no EVOLVE-BLOCK markers and {stripped.reason}; answer with the "
            "whole program and its markers, or with the block's code alone",
        )
    if stripped.repeated:
        _note(lenient, "repeated_outside")
    elif whole_program:
        raise _EditFailure(
            "no_edit",
            "it has no EVOLVE-BLOCK markers and does not repeat the code around the block",
        )
    return stripped.body


def _whole_program_for_diff(parent_code: str, response: str, failure: _EditFailure,
                            lenient: list[str]) -> str:
    """A diff was asked and none came: a code block holding the whole program, its code
    outside the EVOLVE-BLOCKs the parent's (modulo whitespace), is a rewrite of the blocks."""
    if not evolve_blocks(parent_code):
        raise failure
    try:
        code = _extract_code(response)  # fenced, or unfenced with its markers
    except _EditFailure:
        raise failure from None
    try:
        rewritten = _rewrite_blocks(parent_code, code, lenient, whole_program=True)
    except _EditFailure as exc:
        raise _EditFailure(
            "no_edit", f"{failure}; the code block given instead is not the current program "
            f"with new EVOLVE-BLOCK contents ({exc})",
        ) from None
    _note(lenient, "whole_program")
    return rewritten


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
