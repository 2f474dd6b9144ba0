"""Prompts and answers for the HTML report: behind each lineage step, and the answers
that produced no candidate, grouped by reason with a few examples each.

Everything here is model- or candidate-written text: cleaned and capped
(``safe_text.clean``) before the template escapes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from evolve.database.answers import failure_reason
from evolve.database.records import LLMCallRecord
from evolve.database.store import Store
from evolve.report.source import RunHandle
from evolve.safe_text import TEXT_CHARS, clean, line

REPORT_TEXT_CHARS = 20_000  # per prompt message or answer shown in the report
EXAMPLES_PER_REASON = 3
REASONS_SHOWN = 12


@dataclass
class CallText:
    """One call as the report shows it (``kept`` False: no transcript was stored)."""

    call_id: int | None
    iteration: int
    model: str
    outcome: str
    detail: str  # the call's error, or why its edit failed
    messages: list[tuple[str, str]] = field(default_factory=list)  # (role, content)
    answer: str = ""
    reasoning: str = ""
    kept: bool = False


@dataclass
class FailureGroup:
    reason: str
    count: int
    examples: list[CallText]


def edit_errors(handle: RunHandle) -> dict[int, str]:
    """Iteration -> why its edit failed (the run's ``edit_failed`` events)."""
    found: dict[int, str] = {}
    for event in handle.store.events(handle.run_id, "edit_failed"):
        iteration = event.data.get("iteration")
        if isinstance(iteration, int):
            found[iteration] = line(event.data.get("error", ""), TEXT_CHARS)
    return found


def call_text(store: Store, call: LLMCallRecord, detail: str = "") -> CallText:
    shown = CallText(
        call.id, call.iteration, line(call.model), line(failure_reason(call) or call.outcome, 120),
        clean(call.error or detail, TEXT_CHARS),
    )
    kept = store.transcript(call.id) if call.id is not None else None
    if kept is not None:
        shown.kept = True
        shown.messages = [(line(m["role"], 40), clean(m["content"], REPORT_TEXT_CHARS))
                          for m in kept.messages[:8]]
        shown.answer = clean(kept.answer, REPORT_TEXT_CHARS)
        shown.reasoning = clean(kept.reasoning, REPORT_TEXT_CHARS)
    return shown


def failure_groups(store: Store, calls: Iterable[LLMCallRecord],
                   edit_errors: dict[int, str]) -> list[FailureGroup]:
    """Answers without a candidate by reason, most frequent first, with the latest
    ``EXAMPLES_PER_REASON`` of each (prompt and answer included)."""
    grouped: dict[str, list[LLMCallRecord]] = {}
    for call in calls:
        reason = failure_reason(call)
        if reason:
            grouped.setdefault(reason, []).append(call)
    ranked = sorted(grouped.items(), key=lambda item: -len(item[1]))[:REASONS_SHOWN]
    return [
        FailureGroup(line(reason, 120), len(members), [
            call_text(store, call, edit_errors.get(call.iteration, ""))
            for call in members[-EXAMPLES_PER_REASON:]
        ])
        for reason, members in ranked
    ]
