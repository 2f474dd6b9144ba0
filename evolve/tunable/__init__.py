"""Tunable literals: the search space a program's constants span, read from its source.

    space = space_of(source)              # one source text (one file) and its language
    space.parameters                      # name, value as written, domain, line
    child = space.apply({"inner_radius": 0.27})

Only literals inside EVOLVE-BLOCKs (the whole text when it has none) are parameters;
``evolve.tunable.rules`` states which ones and over what range (annotations such as
``0.3  # tune: 0.1..0.9``, ``# tune: off``, ``# tune: [a, b]``, and the default rule).
The API is per source text, so a program of several files is tuned file by file.
"""

from __future__ import annotations

from evolve.edits import editable_ranges
from evolve.tunable.python import comments_by_line, python_literals
from evolve.tunable.rules import SPAN, SpaceError
from evolve.tunable.space import Parameter, SearchSpace, build_space, render
from evolve.tunable.text import text_comments, text_literals

__all__ = ["SPAN", "Parameter", "SearchSpace", "SpaceError", "render", "space_of"]


def space_of(source: str, language: str = "python") -> SearchSpace:
    """The search space of one source text; SpaceError (with a line) when it cannot be read.

    ``language`` is "python" (syntax tree and tokenizer) or another language name, whose
    literals are found by a lexer that knows its comments and strings."""
    if language == "python":
        found, comments = python_literals(source), comments_by_line(source)
    else:
        found, comments = text_literals(source, language), text_comments(source, language)
    inside = _editable_spans(source)
    editable = [f for f in found if any(lo <= f.start and f.end <= hi for lo, hi in inside)]
    space = build_space(source, language, editable, comments)
    if language != "python":
        for p in space.parameters:  # only numbers can be written back in another language
            if any(isinstance(c, (bool, str)) or c is None for c in p.domain.choices):
                raise SpaceError(p.line, "choices in a non-Python source must be numbers")
    return space


def _editable_spans(source: str) -> list[tuple[int, int]]:
    """EVOLVE-BLOCK bodies as character spans, with the line numbering edits use."""
    try:
        ranges = editable_ranges(source)
    except ValueError as exc:
        raise SpaceError(1, str(exc)) from None
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    return [(offsets[start], offsets[end]) for start, end in ranges]

