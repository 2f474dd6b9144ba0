"""docs/config.md documents every configuration key the schema accepts."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from evolve.config import Config, Hint, ModelConfig

REPO = Path(__file__).resolve().parent.parent
LIST_ITEMS = {"hints": Hint, "llm.models": ModelConfig}  # documented in their own tables by bare key


def _keys(cls: type, prefix: str = "") -> list[str]:
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            keys += _keys(hints[f.name], f"{path}.")
        else:
            keys.append(path)
    return keys


def test_every_key_is_in_the_reference() -> None:
    text = (REPO / "docs" / "config.md").read_text()
    missing = [k for k in _keys(Config) if f"`{k}`" not in text]
    for section, cls in LIST_ITEMS.items():
        missing += [f"{section}[].{k}" for k in _keys(cls) if f"`{k}`" not in text]
    for key in ("constraints", "search.novelty.embedding"):
        assert key in text
    assert not missing, f"undocumented keys: {missing}"
