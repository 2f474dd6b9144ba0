"""Reading values a damaged or hand-edited database may hold.

SQLite stores any value in any column: a score may be text, a name a BLOB of invalid
UTF-8, a JSON column a list or no JSON at all. Readers turn each such value into
something of the record's type instead of failing the whole run: text is decoded with
replacement characters, numbers that are not numbers become 0 (or None where the
record allows it), and a JSON field that is not an object becomes
``{DAMAGED_KEY: "<what was wrong>"}``, so views show the field as damaged.
"""

from __future__ import annotations

import json
import math
from typing import Any

DAMAGED_KEY = "(damaged)"


class DamagedJSON(str):
    """What a JSON column held when it was not JSON (a description, not the content)."""


def decode_json(value: Any) -> Any:
    """The engine's JSON deserializer: never raises on stored garbage."""
    try:
        if isinstance(value, (bytes, bytearray)):
            value = bytes(value).decode("utf-8", "replace")
        if not isinstance(value, str):
            return value  # a number or NULL stored straight into the column
        return json.loads(value)
    except (ValueError, RecursionError) as exc:
        return DamagedJSON(f"not valid JSON ({type(exc).__name__})")


def decode_text(raw: bytes) -> str:
    """SQLite text factory: invalid UTF-8 becomes U+FFFD instead of an error."""
    return raw.decode("utf-8", "replace")


def text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def finite(value: Any) -> float | None:
    """A finite float, or None for anything else (NULL, text, NaN, infinity)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def number(value: Any) -> float:
    found = finite(value)
    return 0.0 if found is None else found


def whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(number(value))


def mapping(value: Any) -> dict[str, Any]:
    """A JSON object column as a dict; anything else is marked as damaged."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {text(k): v for k, v in value.items()}
    what = str(value) if isinstance(value, DamagedJSON) else f"a {_json_kind(value)}, not an object"
    return {DAMAGED_KEY: what}


def numbers(value: Any) -> dict[str, float]:
    """MAP-Elites features: only finite numbers are kept (the rest cannot be binned)."""
    if not isinstance(value, dict):
        return {}
    kept: dict[str, float] = {}
    for key, raw in value.items():
        found = finite(raw)
        if found is not None:
            kept[text(key)] = found
    return kept


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__
