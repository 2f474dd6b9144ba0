"""Reading a foreign config key by key, so no key is dropped silently.

Each key the mapping reads is marked taken; every key left over becomes one warning
naming the file and the key, with the reason where one is known (e.g. "evolve stores
every iteration; there is nothing to checkpoint").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from evolve.errors import UserError

_MISSING = object()
_KINDS: dict[str, tuple[type, ...]] = {
    "an integer": (int,), "a number": (int, float), "text": (str,), "true or false": (bool,),
    "a list": (list,), "a mapping": (dict,), "a number or a mapping": (int, float, dict),
}


class ForeignConfig:
    """One foreign config file; ``sections`` are the keys whose mappings are walked."""

    def __init__(self, data: Mapping[str, Any], name: str, sections: set[str],
                 reasons: Mapping[str, str]) -> None:
        self.data = dict(data)
        self.name = name
        self.sections = sections
        self.reasons = reasons
        self.taken: set[str] = set()
        self.notes: list[str] = []

    def _lookup(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return _MISSING
            node = node[part]
        return node

    def has(self, key: str) -> bool:
        return self._lookup(key) is not _MISSING

    def get(self, key: str, kind: str, default: Any = None) -> Any:
        """The value at dotted ``key`` (marked taken), checked to be ``kind`` (a key of
        ``_KINDS``) or null; ``default`` when absent or null."""
        value = self._lookup(key)
        if value is _MISSING:
            return default
        self.taken.add(key)
        if value is None:
            return default
        types = _KINDS[kind]
        if isinstance(value, bool) and bool not in types:
            types = ()
        if not isinstance(value, types):
            raise UserError(f"expected {kind}, got {value!r}", f"{self.name}: {key}")
        return value

    def take(self, key: str) -> None:
        """Mark ``key`` as handled without reading it."""
        self.taken.add(key)

    def note(self, key: str, text: str) -> None:
        """A warning about a key that was mapped, but not exactly."""
        self.notes.append(f"{Path(self.name).name}: {key}: {text}")

    def _leaves(self, node: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and path in self.sections:
                yield from self._leaves(value, path + ".")
            else:
                yield path

    def warnings(self) -> list[str]:
        """The notes, then one line per key nothing read."""
        left = [key for key in self._leaves(self.data) if key not in self.taken]
        lines = list(self.notes)
        name = Path(self.name).name
        for key in left:
            section = key.split(".")[0]
            reason = self.reasons.get(key) or self.reasons.get(section) or \
                "not a key evolve knows for this format"
            lines.append(f"{name}: {key}: {reason}; ignored")
        return lines
