"""What each LLM answer led to (``LLMCallRecord.outcome``), and tallies of it.

Outcomes, written by the loop (evolve/proposal.py, evolve/asking.py):

- ``candidate``: the answer became a child program (evaluated, or rejected by the static
  gate); ``candidate:<readings>`` when it was read forgivingly (``whole_program``,
  ``loose_match``, ... joined by ``+``; see evolve/edits.py ``LENIENT_READINGS``);
- ``discarded``: the edit applied but a search hook screened the child out (near-copy);
- ``continued``: cut off at max_tokens; the continuation call after it carries the outcome;
- ``side_call``: a search hook's judge or summary call;
- ``edit_failed:<kind>``: no edit could be read (``EditResult.kind``, or ``cut_off`` when the
  answer ended at max_tokens);
- ``llm_failed:<kind>``: the call failed after its retries (``LLMError.kind``);
- ``""``: not recorded (calls stored by versions before outcomes were).

The last two are the answers that produced no candidate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from evolve.database.records import LLMCallRecord

NO_CANDIDATE = ("edit_failed", "llm_failed")


def failure_reason(call: LLMCallRecord) -> str:
    """``edit failed: <kind>`` or ``LLM error: <kind>`` for an answer that produced no
    candidate, else ``""``. Calls stored without an outcome count by their error alone."""
    kind, _, detail = call.outcome.partition(":")
    if kind == "edit_failed":
        return f"edit failed: {detail or 'other'}"
    if kind == "llm_failed":
        return f"LLM error: {detail or 'other'}"
    if not call.outcome and not call.ok:
        return f"LLM error: {call.error.partition(':')[0].strip() or 'other'}"
    return ""


def failure_counts(calls: Iterable[LLMCallRecord]) -> dict[str, int]:
    """Answers that produced no candidate, by reason, most frequent first."""
    tally = Counter(reason for reason in map(failure_reason, calls) if reason)
    return dict(tally.most_common())


def lenient_counts(calls: Iterable[LLMCallRecord]) -> dict[str, int]:
    """Candidates read forgivingly, by reading, most frequent first."""
    tally: Counter[str] = Counter()
    for call in calls:
        kind, _, readings = call.outcome.partition(":")
        if kind == "candidate" and readings:
            tally.update(readings.split("+"))
    return dict(tally.most_common())


def describe_counts(counts: dict[str, int], limit: int = 4) -> str:
    """``edit failed: no_match 8, LLM error: server 4`` (the most frequent ``limit``)."""
    shown = [f"{reason} {count}" for reason, count in list(counts.items())[:limit]]
    rest = sum(list(counts.values())[limit:])
    return ", ".join(shown + ([f"other {rest}"] if rest else []))


class UnusableStreak:
    """Answers in a row that produced no candidate; says when a run should give up.

    ``observe`` takes each committed iteration's calls in order; once ``limit`` answers
    in a row produced no candidate it returns a one-line diagnosis (once)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.reasons: Counter[str] = Counter()
        self.example = ""
        self.fired = False

    def observe(self, calls: Iterable[LLMCallRecord], edit_error: str = "") -> str:
        """``edit_error``: why the iteration's edit failed, if it did (the example shown)."""
        for call in calls:
            reason = failure_reason(call)
            if reason:
                self.count += 1
                self.reasons[reason] += 1
                detail = (call.error or edit_error or reason).splitlines() or [reason]
                self.example = f"iteration {call.iteration}: {detail[0][:200]}"
            elif call.outcome.partition(":")[0] in ("candidate", "discarded"):
                self.count = 0
                self.reasons.clear()
        if self.limit and self.count >= self.limit and not self.fired:
            self.fired = True
            return (f"the last {self.count} answers produced no candidate "
                    f"({describe_counts(dict(self.reasons.most_common()))}; last: "
                    f"{self.example})")
        return ""
