"""Which literals become parameters and over what range: annotations and the default rule.

An annotation is a comment on the literal's line, ``# tune: ...`` (``// tune: ...`` and
``-- tune: ...`` in other languages), and covers the literals on that line it can describe:

- ``tune: off``: none of them is tuned;
- ``tune: on``: numbers and booleans, with the default range even where the default rule
  leaves the value alone (``0`` needs bounds; a boolean spans ``[False, True]``);
- ``tune: LOW..HIGH`` (``tune: LOW..HIGH log``): a range for the numbers (int bounds for
  an int literal);
- ``tune: [a, b, c]``: a choice among literals (numbers, strings, True/False, None) for
  the literals of those types.

The default rule, for literals without an annotation:

- numbers only (booleans and strings are tuned when annotated);
- the ints -2..2 and the float 0.0 stay as written (indexes, identities, signs, halves,
  pairs, shapes: ``n - 1``, ``len(a) // 2``, ``np.zeros((n, 2))``);
- a positive value spans ``[value / SPAN, value * SPAN]`` on a log scale (ints stay ints,
  at least 1); a float in (0, 1] is read as a fraction (a probability, a share, a
  confidence, a coordinate in the unit square) and its range stops at 1;
- a negative value spans ``[value * SPAN, value / SPAN]`` on a linear scale (it keeps its
  sign);
- magnitudes above ``LARGEST`` stay as written.

Literals in structural positions are never tuned, annotated or not: those outside the
EVOLVE-BLOCKs, in comments and in strings; in Python also indexes and slices (``x[0]``,
``a[:, 2]``), exponents (``x ** 2``), dictionary keys, type annotations, docstrings and
f-string parts; in other languages a lone number in brackets (``a[3]``).
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

SPAN = 4.0  # the default range: value / SPAN .. value * SPAN
LARGEST = 2.0**53  # beyond this a literal is an id or a mask, not a setting
MAX_CHOICES = 64
MAX_ANNOTATION_CHARS = 400
STRUCTURAL_INTS = (-2, -1, 0, 1, 2)  # indexes, identities, signs, halves, pairs

ANNOTATION_RE = re.compile(r"(?:#|//|--|/\*)\s*tune\s*:\s*(?P<spec>.*?)\s*(?:\*/)?\s*$", re.I)
RANGE_RE = re.compile(r"^(?P<low>\S+?)\s*\.\.\s*(?P<high>\S+?)(?:\s+(?P<log>log))?$", re.I)

Value = bool | int | float | str | None


class SpaceError(ValueError):
    """A source whose search space cannot be read (a bad ``tune:`` annotation, a syntax
    error); ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Annotation:
    """A parsed ``tune:`` comment."""

    mode: str  # "off" | "on" | "range" | "choices"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Value, ...] = ()
    ints: bool = False  # both bounds were written as ints


@dataclass(frozen=True)
class Domain:
    """Where a parameter may go: a range (``low``..``high``) or ``choices``."""

    kind: str  # "int" | "float" | "choice"
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    choices: tuple[Value, ...] = ()
    annotated: bool = False


def annotation_of(comment: str, line: int) -> Annotation | None:
    """The annotation in a comment, None when the comment is not one."""
    match = ANNOTATION_RE.search(comment)
    if match is None:
        return None
    spec = match.group("spec").strip()
    if len(spec) > MAX_ANNOTATION_CHARS:
        raise SpaceError(line, f"tune annotation longer than {MAX_ANNOTATION_CHARS} characters")
    lowered = spec.lower()
    if lowered in ("off", "on"):
        return Annotation(lowered)
    if spec.startswith("["):
        return Annotation("choices", choices=_choices(spec, line))
    found = RANGE_RE.match(spec)
    if found is None:
        raise SpaceError(
            line, f"cannot read 'tune: {spec}' (expected off, on, LOW..HIGH [log] or [a, b, c])"
        )
    low, low_int = _bound(found.group("low"), line)
    high, high_int = _bound(found.group("high"), line)
    log = found.group("log") is not None
    if not low < high:
        raise SpaceError(line, f"tune range {spec!r}: LOW must be below HIGH")
    if log and low <= 0:
        raise SpaceError(line, f"tune range {spec!r}: a log range needs LOW > 0")
    return Annotation("range", low, high, log, ints=low_int and high_int)


def _bound(text: str, line: int) -> tuple[float, bool]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpaceError(line, f"tune bound {text!r} is not a number")
    if not _moderate(value):
        raise SpaceError(line, f"tune bound {text!r} is not a finite number up to 2**53")
    return float(value), isinstance(value, int)


def _moderate(value: int | float) -> bool:
    """Finite and at most LARGEST in size (ints compared as ints: no float overflow)."""
    if isinstance(value, int):
        return abs(value) <= LARGEST
    return math.isfinite(value) and abs(value) <= LARGEST


def _choices(spec: str, line: int) -> tuple[Value, ...]:
    try:
        parsed = ast.literal_eval(spec)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise SpaceError(line, f"tune choices {spec!r} are not a list of literals") from None
    if not isinstance(parsed, list) or len(parsed) < 2 or len(parsed) > MAX_CHOICES:
        raise SpaceError(line, f"tune choices must be a list of 2 to {MAX_CHOICES} literals")
    for item in parsed:
        if item is not None and not isinstance(item, (bool, int, float, str)):
            raise SpaceError(line, f"tune choice {item!r} is not a number, string or bool")
        if isinstance(item, (int, float)) and not isinstance(item, bool) and not _moderate(item):
            raise SpaceError(line, f"tune choice {item!r} is not a finite number up to 2**53")
    if len(set(parsed)) != len(parsed):  # plain equality: 1, 1.0 and True are one value
        raise SpaceError(line, "tune choices repeat a value")
    return tuple(parsed)


def domain_of(value: Value, annotation: Annotation | None, line: int) -> Domain | None:
    """The literal's domain, or None when it stays as written.

    An annotation covers the literals on its line that it can describe: a range the
    numbers, choices the literals of the choices' types, ``on`` numbers and booleans."""
    if annotation is None:
        return _default(value, forced=False, line=line)
    if annotation.mode == "off":
        return None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation.mode == "on":
        if not (number or isinstance(value, bool)):
            return None
        return _default(value, forced=True, line=line)
    if annotation.mode == "choices":
        kinds = {_kind(c) for c in annotation.choices}
        if _kind(value) not in kinds:
            return None
        return Domain("choice", choices=annotation.choices, annotated=True)
    assert annotation.low is not None and annotation.high is not None
    if not number:
        return None
    if isinstance(value, int):
        if not annotation.ints:
            raise SpaceError(
                line, f"the int literal {value} needs int bounds (write {value}.0 to tune a float)"
            )
        return Domain("int", int(annotation.low), int(annotation.high), annotation.log, (), True)
    return Domain("float", annotation.low, annotation.high, annotation.log, (), True)


def _kind(value: Value) -> str:
    """Numbers are one kind (a choice may turn 4 into 4.5); bools, strings and None others."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "none" if value is None else "str"


def _default(value: Value, *, forced: bool, line: int) -> Domain | None:
    if isinstance(value, bool):
        return Domain("choice", choices=(False, True), annotated=True) if forced else None
    if value is None or isinstance(value, str):
        return None
    if not _moderate(value):
        return None
    if value == 0:
        if forced:
            raise SpaceError(line, "0 has no default range: give bounds, e.g. 'tune: 0..10'")
        return None
    if not forced and isinstance(value, int) and value in STRUCTURAL_INTS:
        return None
    if isinstance(value, int):
        size = abs(value)
        low, high = max(1, round(size / SPAN)), max(2, round(size * SPAN))
        if value > 0:
            return Domain("int", low, high, True, (), forced)
        return Domain("int", -high, -low, False, (), forced)
    if value > 0:  # a float in (0, 1] is read as a fraction: it stays one
        top = min(value * SPAN, 1.0) if value <= 1.0 else value * SPAN
        return Domain("float", value / SPAN, top, True, (), forced)
    return Domain("float", value * SPAN, value / SPAN, False, (), forced)
