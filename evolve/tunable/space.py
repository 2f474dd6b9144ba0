"""A program's search space: its tunable literals, and writing chosen values back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from evolve.tunable.rules import Domain, SpaceError, Value, annotation_of, domain_of


@dataclass(frozen=True)
class Found:
    """A literal a scanner found: where it is written and what names it."""

    value: Value
    text: str  # as written (a negative number includes its sign)
    start: int  # character offsets into the source: source[start:end] == text
    end: int
    line: int  # 1-based
    col: int  # 0-based, in characters
    base: str  # the name it gets (assignment target, keyword, ...), made unique later


@dataclass(frozen=True)
class Parameter:
    """One tunable literal: its name, where it is written, its value and domain."""

    name: str
    value: Value
    text: str
    start: int
    end: int
    line: int
    domain: Domain

    @property
    def kind(self) -> str:
        return self.domain.kind

    def describe(self) -> str:
        """The domain in the annotation syntax, e.g. ``0.075..1.2 log`` or ``[a, b]``."""
        d = self.domain
        if d.kind == "choice":
            return "[" + ", ".join(repr(c) for c in d.choices) + "]"
        return f"{_short(d.low)}..{_short(d.high)}" + (" log" if d.log else "")

    def check(self, value: object) -> Value:
        """``value`` as this parameter's type; ValueError when it is outside the domain."""
        d = self.domain
        if d.kind == "choice":
            for choice in d.choices:
                if type(choice) is type(value) and choice == value:
                    return choice
            raise ValueError(f"{self.name}: {value!r} is not one of {self.describe()}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{self.name}: {value!r} is not a number")
        assert d.low is not None and d.high is not None
        number: int | float = int(value) if d.kind == "int" else float(value)
        if d.kind == "int" and number != value:
            raise ValueError(f"{self.name}: {value!r} is not a whole number")
        if not (math.isfinite(number) and d.low <= number <= d.high):
            raise ValueError(f"{self.name}: {value!r} is outside {self.describe()}")
        return number


def _short(value: float | int | None) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def render(value: Value, domain: Domain | None = None) -> str:
    """A value as a literal: floats with 6 significant digits and a decimal point (all
    digits where rounding would leave ``domain``)."""
    if isinstance(value, float):
        text = f"{value:.6g}"
        text = text if any(ch in text for ch in ".en") else text + ".0"
        low, high = (domain.low, domain.high) if domain is not None else (None, None)
        if (low is not None and float(text) < low) or (high is not None and float(text) > high):
            text = repr(value)
        return text
    return repr(value)


@dataclass(frozen=True)
class SearchSpace:
    """The tunable literals of one source text (one file), in source order."""

    source: str
    language: str
    parameters: tuple[Parameter, ...]

    def __len__(self) -> int:
        return len(self.parameters)

    def __bool__(self) -> bool:
        return bool(self.parameters)

    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def values(self) -> dict[str, Value]:
        """The values as written in the source."""
        return {p.name: p.value for p in self.parameters}

    def first(self, count: int) -> SearchSpace:
        """The space restricted to ``count`` parameters, annotated ones first."""
        if len(self.parameters) <= count:
            return self
        ranked = sorted(self.parameters, key=lambda p: (not p.domain.annotated, p.start))
        kept = {p.name for p in ranked[:count]}
        return SearchSpace(
            self.source, self.language, tuple(p for p in self.parameters if p.name in kept)
        )

    def written(self, values: Mapping[str, object]) -> dict[str, Value]:
        """``values`` as they read once written into the code (floats rounded)."""
        by_name = {p.name: p for p in self.parameters}
        out: dict[str, Value] = {}
        for name, value in values.items():
            checked = by_name[name].check(value)
            out[name] = float(render(checked, by_name[name].domain)) if isinstance(
                checked, float) else checked  # fmt: skip
        return out

    def apply(self, values: Mapping[str, object]) -> str:
        """The source with ``values`` written in (by name); the others stay as written.

        Raises ValueError for an unknown name or a value outside its domain."""
        by_name = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(by_name))
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(unknown)}")
        edits = sorted(
            ((by_name[n].start, by_name[n].end, n, by_name[n].check(v)) for n, v in values.items()),
            reverse=True,
        )
        text = self.source
        for start, end, name, value in edits:
            text = text[:start] + render(value, by_name[name].domain) + text[end:]
        return text


def build_space(
    source: str, language: str, found: list[Found], comments: Mapping[int, str]
) -> SearchSpace:
    """Parameters from the literals a scanner found and the comments per line."""
    annotations = {}
    for line, comment in comments.items():
        annotation = annotation_of(comment, line)
        if annotation is not None:
            annotations[line] = annotation
    kept: list[tuple[Found, Domain]] = []
    for literal in found:
        domain = domain_of(literal.value, annotations.get(literal.line), literal.line)
        if domain is not None:
            kept.append((literal, domain))
    names = unique_names([lit for lit, _ in kept])
    parameters = tuple(
        Parameter(name, lit.value, lit.text, lit.start, lit.end, lit.line, domain)
        for name, (lit, domain) in zip(names, kept)
    )
    return SearchSpace(source, language, parameters)


def unique_names(found: list[Found]) -> list[str]:
    """``base`` where it is unique; ``base@line`` or ``base@line:col`` where not."""
    counts: dict[str, int] = {}
    for lit in found:
        counts[lit.base] = counts.get(lit.base, 0) + 1
    at_line: dict[str, int] = {}
    for lit in found:
        key = f"{lit.base}@{lit.line}"
        at_line[key] = at_line.get(key, 0) + 1
    names = []
    for lit in found:
        name = lit.base
        if counts[name] > 1:
            name = f"{lit.base}@{lit.line}"
            if at_line[name] > 1:
                name = f"{name}:{lit.col}"
        names.append(name)
    return names


__all__ = [
    "SpaceError",
    "Found",
    "Parameter",
    "SearchSpace",
    "build_space",
    "render",
]
