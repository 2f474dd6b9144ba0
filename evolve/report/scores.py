"""Small helpers shared by every view: the holdout score, number and time formats."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from evolve.database.records import LLMCallRecord, ProgramRecord


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def holdout_score(holdout: Mapping[str, Any]) -> float | None:
    """One number for a program's holdout results.

    ``holdout["score"]`` when the evaluator reports one (the combined score on the
    held-out workloads, comparable to the train score); otherwise the mean of the
    numeric holdout values; None when there are none.
    """
    combined = _number(holdout.get("score"))
    if combined is not None:
        return combined
    values = [v for v in (_number(x) for x in holdout.values()) if v is not None]
    return sum(values) / len(values) if values else None


def program_holdout(program: ProgramRecord) -> float | None:
    return holdout_score(program.holdout) if program.valid else None


def fmt_score(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def fmt_usd(value: float) -> str:
    return f"${value:.4f}" if value < 100 else f"${value:,.2f}"


def fmt_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{sec:02d}s"


def fmt_date(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def model_mix(calls: list[LLMCallRecord]) -> dict[str, int]:
    """Calls per model, most used first ("offline" for the offline engine's empty name)."""
    counts: dict[str, int] = {}
    for call in calls:
        name = call.model or "offline"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def fmt_model_mix(mix: Mapping[str, int]) -> str:
    total = sum(mix.values())
    if not total:
        return "-"
    return ", ".join(f"{name} {count / total:.0%}" for name, count in mix.items())
