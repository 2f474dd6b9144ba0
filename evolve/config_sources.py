"""Where each configuration value came from: problem.yaml, a ``--config`` file or ``--set``.

Checks made after the layers are merged (value ranges, an evaluator's own argument
checks, LLM keys) report a bare key such as ``evaluator_args.num_gpus``; the layers turn
it into the file or command-line option that set it, so a ``--set`` typo is blamed on
the command line and not on problem.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from evolve.errors import UserError

# A bare config key path: name(.name | [index])*; anything else already names its source.
_KEY_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*$")
_PART = re.compile(r"[A-Za-z_]\w*|\[(\d+)\]")
_WORD = re.compile(r"[A-Za-z_]\w*")


def key_parts(key: str) -> list[str | int]:
    """``llm.models[0].name`` -> ``["llm", "models", 0, "name"]``."""
    parts: list[str | int] = []
    for match in _PART.finditer(key):
        parts.append(int(match.group(1)) if match.group(1) is not None else match.group(0))
    return parts


def _sets(data: Any, parts: list[str | int]) -> bool:
    """Whether one layer sets the value at ``parts`` (a list or scalar it sets on the way
    holds everything below it: lists are replaced whole, not merged)."""
    node = data
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                return False
            node = node[part]
        else:
            return True
    return True


@dataclass
class ConfigLayers:
    """The configuration layers in precedence order, lowest first: (mapping, source)."""

    items: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def add(self, data: dict[str, Any], source: str) -> None:
        self.items.append((data, source))

    def origin(self, key: str) -> str:
        """The source that set ``key`` (the last one wins); "" when only defaults did.

        For a mapping that several layers add to (``evaluator_args``), every contributing
        source is named.
        """
        parts = key_parts(key)
        setters = [(data, source) for data, source in self.items if _sets(data, parts)]
        if not setters:
            return ""
        if isinstance(self._value(setters[-1][0], parts), dict) and len(setters) > 1:
            return ", ".join(dict.fromkeys(source for _, source in setters))
        return setters[-1][1]

    @staticmethod
    def _value(data: Any, parts: list[str | int]) -> Any:
        node = data
        for part in parts:
            if not isinstance(node, dict):
                return node
            node = node.get(part)
        return node

    def _last_setter(self, key: str) -> int:
        parts = key_parts(key)
        return max((i for i, (data, _) in enumerate(self.items) if _sets(data, parts)), default=-1)

    def culprit(self, key: str, message: str) -> str:
        """The key to blame: ``key``, or a sibling the message names (``num_gpus must be a
        multiple of num_nodes``) that a later layer set, since that change is what broke it."""
        parent = key.rpartition(".")[0]
        if not parent:  # top-level keys: too many common words (name, seed, out) to guess from
            return key
        best, best_layer = key, self._last_setter(key)
        for sibling in dict.fromkeys(f"{parent}.{word}" for word in _WORD.findall(message)):
            layer = self._last_setter(sibling)
            if layer > best_layer:
                best, best_layer = sibling, layer
        return best

    def locate(self, error: UserError) -> UserError:
        """``error`` with its bare key prefixed by the source that set the key (or the
        related key the message names that was set last)."""
        if not _KEY_PATH.match(error.where):
            return error
        key = self.culprit(error.where, error.message)
        source = self.origin(key)
        if not source:
            return error
        located = UserError(error.message, f"{source}: {key}")
        located.__cause__ = error.__cause__
        return located

    @contextmanager
    def blame(self) -> Iterator[None]:
        """Re-raise a UserError that names a bare key with the key's source."""
        try:
            yield
        except UserError as exc:
            located = self.locate(exc)
            if located is exc:
                raise
            raise located from None
