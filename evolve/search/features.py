"""MAP-Elites feature dimensions: raw values per program and their bins.

Each dimension is read, in this order, from:
1. ``program.features[name]`` when already set (a stored program being rebuilt);
2. ``program.metrics[name]`` when the evaluator reported a number under that name;
3. a built-in: "complexity" = code length in characters (binned on a log scale),
   "diversity" = mean token-set Jaccard distance to a small reference set of the
   island's programs;
4. otherwise 0.0.

Ranges are tracked per dimension (min/max seen so far) and bins are equal slices of
that range. When a range grows, the caller re-bins its cell elites (a bounded
number of programs), never the whole population. Every computation here is O(size of
one program), independent of how many programs are stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from evolve.database.records import ProgramRecord

BUILTIN_FEATURES = ("complexity", "diversity")
REFERENCE_SET_SIZE = 8  # programs a diversity value is measured against
REFERENCE_STRIDE = 5  # after the set is full, every 5th valid program replaces the oldest one

_TOKEN = re.compile(r"\w+")


def code_tokens(code: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(code))


def jaccard_distance(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 0.0
    common = len(a & b)
    return 1.0 - common / (len(a) + len(b) - common)


class DiversityReference:
    """A fixed-size, slowly refreshed sample of one island's valid programs.

    The refresh is a deterministic function of the order programs are added in, so
    rebuilding an island from stored records reproduces the same references.
    """

    def __init__(self, size: int = REFERENCE_SET_SIZE, stride: int = REFERENCE_STRIDE) -> None:
        self.size = size
        self.stride = stride
        self.tokens: list[frozenset[str]] = []
        self._seen = 0
        self._next_slot = 0

    def distance(self, tokens: frozenset[str]) -> float:
        if not self.tokens:
            return 0.0
        return sum(jaccard_distance(tokens, ref) for ref in self.tokens) / len(self.tokens)

    def wants_next(self) -> bool:
        """Whether the next observed program becomes a reference (so its tokens are needed)."""
        return len(self.tokens) < self.size or (self._seen + 1) % self.stride == 0

    def observe(self, tokens: Callable[[], frozenset[str]]) -> None:
        """Count one more valid program; ``tokens`` is only called when it is kept."""
        keep = self.wants_next()
        self._seen += 1
        if not keep:
            return
        if len(self.tokens) < self.size:
            self.tokens.append(tokens())
        else:
            self.tokens[self._next_slot] = tokens()
            self._next_slot = (self._next_slot + 1) % self.size


class FeatureAxis:
    """One dimension: an adaptive [low, high] range cut into ``bins`` equal slices."""

    def __init__(self, name: str, bins: int, log_scale: bool = False) -> None:
        self.name = name
        self.bins = max(1, bins)
        self.log_scale = log_scale
        self.low: float | None = None
        self.high: float | None = None

    def _scaled(self, value: float) -> float:
        return math.log1p(max(value, 0.0)) if self.log_scale else value

    def observe(self, value: float) -> bool:
        """Widen the range to include ``value``; True when it changed (bins moved)."""
        scaled = self._scaled(value)
        if self.low is None or self.high is None:
            self.low = self.high = scaled
            return True
        if scaled < self.low:
            self.low = scaled
            return True
        if scaled > self.high:
            self.high = scaled
            return True
        return False

    def bin(self, value: float) -> int:
        if self.low is None or self.high is None or self.high <= self.low:
            return 0
        position = (self._scaled(value) - self.low) / (self.high - self.low)
        return min(self.bins - 1, max(0, int(position * self.bins)))


class FeatureSpace:
    """The MAP-Elites grid geometry shared by all islands."""

    def __init__(self, dimensions: Sequence[str], bins: int) -> None:
        self.dimensions = list(dimensions)
        self.axes = [FeatureAxis(name, bins, log_scale=name == "complexity") for name in dimensions]
        self.uses_diversity = "diversity" in self.dimensions

    def complete(
        self,
        program: ProgramRecord,
        tokens: Callable[[], frozenset[str]],
        reference: DiversityReference,
    ) -> dict[str, float]:
        """Fill in the program's missing feature values (in place) and return them."""
        for name in self.dimensions:
            if _finite(program.features.get(name)) is not None:
                continue
            reported = _finite(program.metrics.get(name))
            if reported is not None:
                program.features[name] = reported
            elif name == "complexity":
                program.features[name] = float(len(program.code))
            elif name == "diversity":
                program.features[name] = reference.distance(tokens())
            else:
                program.features[name] = 0.0
        return program.features

    def observe(self, features: dict[str, float]) -> bool:
        """Widen the ranges; True when any bin boundary moved."""
        changed = False
        for axis in self.axes:
            changed = axis.observe(self.value(features, axis.name)) or changed
        return changed

    def cell(self, features: dict[str, float]) -> tuple[int, ...]:
        return tuple(axis.bin(self.value(features, axis.name)) for axis in self.axes)

    @staticmethod
    def value(features: dict[str, float], name: str) -> float:
        number = _finite(features.get(name))
        return 0.0 if number is None else number


def _finite(value: object) -> float | None:
    """A finite float from a number or numeric string ("nan"/"inf" read back as None)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
