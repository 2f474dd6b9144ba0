"""The run's ledger: one :class:`Attempt` per iteration decides every counter.

An attempt says what happened (its :class:`Outcome`) and carries what it produced: the
programs to store, the LLM calls it made, the events worth showing later. Its
``counters()`` is the only place that turns an outcome into counter increments, and the
store writes an attempt (rows and increments) in one transaction, so "what counts" is
decided once, here, and a crash leaves all of an attempt or none of it.

Entries that are not iterations use the same record: evaluating a baseline (``SEEDED``),
storing copies of programs already evaluated (``COPIED``: island seeds, migration),
side calls a search hook makes outside any iteration (``SIDE_CALL``) and autotuning
trials (``TUNED``: an evaluation that is neither an iteration nor an LLM call).

To add an outcome, add it to :class:`Outcome` and give it a
row in ``RULES``; nothing else decides what it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from evolve.database.records import EventRecord, LLMCallRecord, ProgramRecord


class Outcome(StrEnum):
    EVALUATED = "evaluated"  # a child was evaluated (valid or not)
    REJECTED = "rejected"  # a child failed the static check: invalid without an evaluation
    EDIT_FAILED = "edit_failed"  # the answer did not apply to the parent
    DISCARDED = "discarded"  # a search hook screened the child out (e.g. a near-copy)
    LLM_FAILED = "llm_failed"  # the model call failed after its retries
    STOPPED = "stopped"  # a stop was requested after the iteration had made calls
    SEEDED = "seeded"  # a baseline program was evaluated
    COPIED = "copied"  # copies of evaluated programs (island seeds, migration)
    SIDE_CALL = "side_call"  # an LLM call a search hook made outside an iteration
    TUNED = "tuned"  # an autotuning trial was evaluated (no LLM call, not an iteration)


@dataclass(frozen=True)
class CountingRule:
    iteration: bool = False  # one iteration of the run's budget
    evaluation: bool = False  # one evaluation, counted valid or invalid by the program
    invalid_unevaluated: bool = False  # one invalid program that was never evaluated


RULES: dict[Outcome, CountingRule] = {
    Outcome.EVALUATED: CountingRule(iteration=True, evaluation=True),
    Outcome.REJECTED: CountingRule(iteration=True, invalid_unevaluated=True),
    Outcome.EDIT_FAILED: CountingRule(iteration=True),
    Outcome.DISCARDED: CountingRule(iteration=True),
    Outcome.LLM_FAILED: CountingRule(iteration=True),
    Outcome.STOPPED: CountingRule(iteration=True),
    Outcome.SEEDED: CountingRule(evaluation=True),
    Outcome.COPIED: CountingRule(),
    Outcome.SIDE_CALL: CountingRule(),
    Outcome.TUNED: CountingRule(evaluation=True),
}


@dataclass
class Attempt:
    """One ledger entry. ``programs`` holds the child (at most one for an iteration) or
    the copies of a ``COPIED`` entry; every LLM call of the entry is in ``calls``, the
    failed ones included (they cost time and money too)."""

    run_id: str
    iteration: int
    outcome: Outcome
    programs: list[ProgramRecord] = field(default_factory=list)
    calls: list[LLMCallRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)

    @property
    def program(self) -> ProgramRecord | None:
        """The entry's (first) program, if it stores any."""
        return self.programs[0] if self.programs else None

    def event(self, kind: str, data: dict[str, Any]) -> None:
        """Add an event to be written with the entry."""
        self.events.append(EventRecord(run_id=self.run_id, kind=kind, data=data))

    def counters(self) -> dict[str, float]:
        """The increments this entry adds to the run's counters (zeros left out)."""
        rule = RULES[self.outcome]
        valid = sum(1 for p in self.programs if p.valid) if rule.evaluation else 0
        evaluations = len(self.programs) if rule.evaluation else 0
        delta: dict[str, float] = {
            "iterations": 1 if rule.iteration else 0,
            "evaluations": evaluations,
            "valid": valid,
            "invalid": evaluations - valid + (1 if rule.invalid_unevaluated else 0),
            "llm_calls": len(self.calls),
            "prompt_tokens": sum(int(c.prompt_tokens) for c in self.calls),
            "completion_tokens": sum(int(c.completion_tokens) for c in self.calls),
            "usd": sum(float(c.cost_usd) for c in self.calls),
        }
        return {name: amount for name, amount in delta.items() if amount}
