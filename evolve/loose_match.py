"""Comparing code modulo whitespace, for the forgiving readings of an answer.

Models copy code with its spacing changed: blank lines dropped or added, runs of spaces
collapsed, indentation shifted. Two texts are the same "modulo whitespace" when their
non-blank lines, with each run of whitespace collapsed to one space and the ends
stripped, are equal. These functions say where such a match lies in the original lines,
so the caller can apply an edit there, or refuse when the match is not unique.
"""

from __future__ import annotations

from dataclasses import dataclass


def squash(line: str) -> str:
    """A line with its whitespace runs collapsed and its ends stripped."""
    return " ".join(line.split())


def significant(lines: list[str]) -> list[tuple[int, str]]:
    """``(index, squashed line)`` for every non-blank line."""
    return [(i, squash(line)) for i, line in enumerate(lines) if line.strip()]


def same_modulo_whitespace(a: list[str], b: list[str]) -> bool:
    return [s for _, s in significant(a)] == [s for _, s in significant(b)]


def first_difference(old: list[str], new: list[str]) -> int:
    """Index in ``new`` of its first non-blank line that differs from ``old`` modulo
    whitespace (``len(new)`` when ``new`` ends early; call only when they differ)."""
    old_sig, new_sig = significant(old), significant(new)
    for (_, a), (index, b) in zip(old_sig, new_sig):
        if a != b:
            return index
    if len(new_sig) > len(old_sig):
        return new_sig[len(old_sig)][0]
    return len(new)


def find_loose(lines: list[str], search: list[str]) -> list[tuple[int, int]]:
    """Every ``(start, end)`` line range of ``lines`` equal to ``search`` modulo
    whitespace; ranges start and end on non-blank lines."""
    wanted = [s for _, s in significant(search)]
    if not wanted:
        return []
    have = significant(lines)
    k = len(wanted)
    return [
        (have[i][0], have[i + k - 1][0] + 1)
        for i in range(len(have) - k + 1)
        if [s for _, s in have[i : i + k]] == wanted
    ]


@dataclass
class Stripped:
    """A new block body with repeated outside code cut off, or why it cannot be."""

    body: list[str] | None  # None: not cut out (see ``reason``)
    repeated: bool = False  # whether a copy of the outside code was found and cut off
    reason: str = ""


def _squashed(items: list[tuple[int, str]]) -> list[str]:
    return [s for _, s in items]


def strip_repeats(code: list[str], before: list[str], after: list[str]) -> Stripped:
    """``code`` without a copy of ``before`` at its start and of ``after`` at its end.

    Either copy must be there (modulo whitespace) when the other is; a copy of one
    without the other is not a whole program, and which lines belong to the block is
    then a guess: ``body`` is None and ``reason`` says what was found. Without either
    copy, ``code`` is the body as it is (``repeated`` False).
    """
    head, tail, lines = significant(before), significant(after), significant(code)
    has_head = bool(head) and _squashed(lines[: len(head)]) == _squashed(head)
    room = len(lines) - (len(head) if has_head else 0)
    has_tail = bool(tail) and room >= len(tail) and (
        _squashed(lines[len(lines) - len(tail):]) == _squashed(tail)
    )
    if not has_head and not has_tail:
        return Stripped(code)
    if (head and not has_head) or (tail and not has_tail):
        found, missing = ("before", "after") if has_head else ("after", "before")
        return Stripped(None, reason=f"it repeats the code {found} the EVOLVE-BLOCK but not "
                                     f"the code {missing} it")
    # The body runs from its first to its last non-blank line: blank lines around it
    # belong to the repeated code.
    inner = lines[len(head) : len(lines) - len(tail)]
    if not inner:
        return Stripped([], repeated=True)
    return Stripped(code[inner[0][0] : inner[-1][0] + 1], repeated=True)
