"""Make evaluator output storable as strict JSON.

Evaluators report whatever their numbers came out as: NaN, inf, numpy scalars,
tuples. Strict JSON (and PostgreSQL's json type) accepts none of NaN/inf, so
non-finite floats are stored as the strings "nan", "inf" and "-inf"; ``float()`` of
those strings gives the original value back.
"""

from __future__ import annotations

import math
from typing import Any


def json_safe(value: Any) -> Any:
    """A copy of ``value`` made only of dict/list/str/int/float(finite)/bool/None."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite_text(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if callable(item):
        try:
            return json_safe(item())
        except (TypeError, ValueError):
            pass
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return json_safe(tolist())
    return str(value)


def json_safe_dict(value: Any) -> dict[str, Any]:
    """``json_safe`` for a column that must hold a mapping (None becomes {})."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected a dict, got {type(value).__name__}")
    result: dict[str, Any] = json_safe(value)
    return result


def finite_or_none(value: float | None) -> float | None:
    """A score column value: NaN/inf cannot be ordered meaningfully, so they become NULL."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _non_finite_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"
