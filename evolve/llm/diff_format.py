"""Express a change between two programs as LLM-style edit text."""

from __future__ import annotations

import difflib

from evolve.edits import editable_ranges, evolve_blocks


def _occurrences(lines: list[str], window: list[str]) -> int:
    k = len(window)
    return sum(1 for i in range(len(lines) - k + 1) if lines[i : i + k] == window)


def search_replace_response(parent: str, child: str, summary: str) -> str | None:
    """SEARCH/REPLACE blocks turning ``parent`` into ``child``; each SEARCH is widened with
    unchanged lines of its EVOLVE-BLOCK until it matches exactly once. None if impossible."""
    old, new = parent.splitlines(), child.splitlines()
    ranges = editable_ranges(parent)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    spans: list[list[int]] = []  # [old_lo, old_hi, new_lo, new_hi]
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        block = next(((s, e) for s, e in ranges if s <= i1 and i2 <= e), None)
        if block is None:
            return None
        lo, hi, jlo, jhi = i1, i2, j1, j2
        while hi - lo == 0 or _occurrences(old, old[lo:hi]) != 1:
            if lo > block[0] and (hi - lo) % 2 == 0 or hi >= block[1] and lo > block[0]:
                lo, jlo = lo - 1, jlo - 1
            elif hi < block[1]:
                hi, jhi = hi + 1, jhi + 1
            else:
                return None
        if spans and lo <= spans[-1][1]:  # overlapping context: one block covers both
            spans[-1][1], spans[-1][3] = hi, jhi
        else:
            spans.append([lo, hi, jlo, jhi])
    parts = [summary, ""]
    for lo, hi, jlo, jhi in spans:
        parts += ["<<<<<<< SEARCH", *old[lo:hi], "=======", *new[jlo:jhi], ">>>>>>> REPLACE", ""]
    return "\n".join(parts)


def rewrite_response(parent: str, child: str, summary: str, language: str, body_only: bool) -> str:
    """A fenced full program, or only the block body when the program has one block."""
    code = child.rstrip("\n")
    if body_only:
        ((start, end),) = evolve_blocks(parent)
        length_change = len(child.splitlines()) - len(parent.splitlines())
        code = "\n".join(child.splitlines()[start : end + length_change])
    return f"{summary}\n\n```{language}\n{code}\n```\n"


def whole_body_response(parent: str, child: str, summary: str) -> str | None:
    """One SEARCH/REPLACE block per changed EVOLVE-BLOCK, covering its whole body."""
    old, new = parent.splitlines(), child.splitlines()
    old_ranges, new_ranges = editable_ranges(parent), editable_ranges(child)
    if len(old_ranges) != len(new_ranges):
        return None
    parts = [summary, ""]
    for (s, e), (ns, ne) in zip(old_ranges, new_ranges):
        if old[s:e] == new[ns:ne]:
            continue
        if e == s or _occurrences(old, old[s:e]) != 1:
            return None
        parts += ["<<<<<<< SEARCH", *old[s:e], "=======", *new[ns:ne], ">>>>>>> REPLACE", ""]
    return "\n".join(parts) if len(parts) > 2 else None
