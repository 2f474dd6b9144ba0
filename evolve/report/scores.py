"""Small helpers shared by every view: the holdout score, number and time formats."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.evaluation.types import COMPATIBILITY_EVENT, COMPATIBILITY_NOTE

# How a run whose scores came from a foreign evaluator in the candidate's process
# (compatibility mode) is described in the summary, `evolve show` and the report.
COMPATIBILITY_TRUST = (f"{COMPATIBILITY_NOTE} (its evaluator ran in the candidate's process; "
                       "see docs/importing.md)")


def in_compatibility_mode(store: Any, run_id: str) -> bool:
    """Whether the run received a score computed in the candidate's process."""
    return bool(store.events(run_id, COMPATIBILITY_EVENT))


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


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:  # a very long word is cut inside it rather than left almost empty
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "\u2026"


def short_label(name: str, limit: int = 24) -> str:
    """A name short enough for an axis tick or a narrow cell: its last ``/`` part, cut to
    ``limit`` characters (the full name is shown next to it, as hover text or a tooltip)."""
    if len(name) <= limit:
        return name
    return shorten(name.rstrip("/").rsplit("/", 1)[-1], limit)


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
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))
    except (OverflowError, OSError, ValueError):  # a damaged time stamp
        return "-"


def model_mix(calls: list[LLMCallRecord]) -> dict[str, int]:
    """Calls per model, most used first ("offline" for the offline engine's empty name)."""
    counts: dict[str, int] = {}
    for call in calls:
        name = call.model or "offline"
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def offline_models(models: Sequence[Any]) -> bool:
    """True when the offline engine answers every call: no model configured, or only
    ``provider: offline`` ones (given as config objects or as stored mappings)."""
    def provider(model: Any) -> Any:
        if isinstance(model, Mapping):
            return model.get("provider")
        return getattr(model, "provider", None)

    return all(provider(m) == "offline" for m in models)


def offline_run(config: Mapping[str, Any]) -> bool:
    """Whether a stored run configuration used only the offline engine (a configuration
    without an ``llm.models`` list says nothing either way: False)."""
    llm = config.get("llm")
    models = llm.get("models") if isinstance(llm, Mapping) else None
    return isinstance(models, list) and offline_models(models)


def fmt_model_mix(mix: Mapping[str, int]) -> str:
    total = sum(mix.values())
    if not total:
        return "-"
    return ", ".join(f"{name} {count / total:.0%}" for name, count in mix.items())
