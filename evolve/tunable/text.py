"""Numeric literals of a non-Python source, found by a lexer that skips comments and strings.

Comment syntax comes from ``evolve.languages`` (``//`` and ``/* */`` for C, C++, CUDA,
Rust, Go, ...; ``#`` for shell, Ruby, R, YAML, TOML, Makefiles; ``--`` for SQL, Lua,
Haskell); a language it does not know is read as C. Strings are double-quoted with
backslash escapes, or single-quoted within one line. Only numbers are found (decimal,
with an optional exponent; hex and octal stay as written); a type suffix (``1.5f``,
``16u``, ``3u32``) is kept and not part of the replaced text. A lone number in brackets
(``a[3]``) is an index and is left out, as in Python. A minus sign right after an
operator, an opening bracket, a comma, ``return`` or the start of a line belongs to its
number.
"""

from __future__ import annotations

import re

from evolve.languages import LANGUAGES
from evolve.tunable.rules import SpaceError
from evolve.tunable.space import Found

NUMBER_RE = re.compile(
    r"(?<![\w.])(?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)"
    r"(?P<suffix>[fFuUlLhH]{0,3}|_?[iuf](?:8|16|32|64|128|size))(?![\w.])"
)
DEFINE_RE = re.compile(r"#\s*define\s+(\w+)\s+$")
ASSIGN_RE = re.compile(r"(\w+)\s*(?:\[[^\]]*\]\s*)?(?::\s*[\w<>\[\], ]+?\s*)?[-+*/]?:?=(?!=)")
COMPARE_RE = re.compile(r"(\w+)\s*(?:[<>]=?|==|!=)\s*$")
SIGN_CONTEXT = set("=(,[{:?<>!&|+-*/%^~;")


def _syntax(language: str) -> tuple[tuple[str, ...], bool]:
    """(line-comment openers, whether /* */ block comments exist) of a language name from
    ``evolve.languages``; a name it does not know is read with C's comments."""
    known = LANGUAGES.get(language.lower())
    comments = known.comments if known is not None and known.comments else ("//", "/*")
    return tuple(c for c in comments if c != "/*"), "/*" in comments


def _skipped_spans(source: str, language: str) -> tuple[list[tuple[int, int]], dict[int, str]]:
    """Comment and string spans, and each line's comment text (by 1-based line)."""
    prefixes, block = _syntax(language)
    spans: list[tuple[int, int]] = []
    comments: dict[int, str] = {}
    index, size = 0, len(source)
    while index < size:
        ch = source[index]
        if block and source.startswith("/*", index):
            end = source.find("*/", index + 2)
            end = size if end < 0 else end + 2
            comments.setdefault(_line_of(source, index), source[index:end])
            spans.append((index, end))
            index = end
        elif any(source.startswith(p, index) for p in prefixes):
            end = source.find("\n", index)
            end = size if end < 0 else end
            comments[_line_of(source, index)] = source[index:end]
            spans.append((index, end))
            index = end
        elif ch == '"':
            end = _string_end(source, index, '"', multiline=True)
            spans.append((index, end))
            index = end
        elif ch == "'":
            end = _string_end(source, index, "'", multiline=False)
            if end > index + 1:
                spans.append((index, end))
            index = max(end, index + 1)
        else:
            index += 1
    return spans, comments


def _string_end(source: str, start: int, quote: str, *, multiline: bool) -> int:
    index = start + 1
    while index < len(source):
        ch = source[index]
        if ch == "\\":
            index += 2
            continue
        if ch == quote:
            return index + 1
        if ch == "\n" and not multiline:
            return start + 1  # no string here (e.g. a Rust lifetime 'a)
        index += 1
    return len(source)


def _line_of(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


def text_comments(source: str, language: str) -> dict[int, str]:
    return _skipped_spans(source, language)[1]


def text_literals(source: str, language: str) -> list[Found]:
    """The numbers outside comments and strings, in source order."""
    if "\x00" in source:
        raise SpaceError(1, "the source holds NUL characters")
    spans, _ = _skipped_spans(source, language)
    found: list[Found] = []
    span_index = 0
    for match in NUMBER_RE.finditer(source):
        start, end = match.start("number"), match.end("number")
        while span_index < len(spans) and spans[span_index][1] <= start:
            span_index += 1
        if span_index < len(spans) and spans[span_index][0] <= start < spans[span_index][1]:
            continue
        if _indexes(source, start, match.end()):
            continue
        text = match.group("number")
        try:
            value: int | float = float(text) if any(c in text for c in ".eE") else int(text)
        except ValueError:  # e.g. more digits than Python converts: not a setting
            continue
        if _signed(source, start):
            start -= 1
            value = -value
        line = _line_of(source, start)
        line_start = source.rfind("\n", 0, start) + 1
        before = source[line_start:start]
        base = _name(before) or f"line{line}"
        found.append(Found(value, source[start:end], start, end, line, start - line_start, base))
    return found


def _indexes(source: str, start: int, end: int) -> bool:
    """``a[3]``: a lone number in brackets is an index (structure, as in Python)."""
    opened = source[:start].rstrip(" \t-").endswith("[")
    return opened and source[end:].lstrip(" \t").startswith("]")


def _name(before: str) -> str:
    """What the literal sets: a #define, the last assignment before it, a compared name."""
    for pattern in (DEFINE_RE, COMPARE_RE):
        found = pattern.search(before)
        if found:
            return found.group(1)
    assignments = ASSIGN_RE.findall(before)
    if assignments:
        return str(assignments[-1])
    return "return" if re.search(r"\breturn\b", before) else ""


def _signed(source: str, start: int) -> bool:
    if start == 0 or source[start - 1] != "-":
        return False
    before = source[: start - 1].rstrip(" \t")
    return not before or before[-1] == "\n" or before[-1] in SIGN_CONTEXT or before.endswith(
        "return"
    )
