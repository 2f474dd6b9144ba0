"""The meta-scratchpad: a short, periodically rewritten summary of what the search learned.

Every ``every`` evaluated children the recent (parent, child) pairs are summarised into
a few lines (what kinds of change were tried, which improved the score, which broke the
program and why) plus a few recommendations; each prompt then carries the summary and
one recommendation, rotating. The summary is written either by an LLM (summarize.j2)
or, with the offline engine or when asked, by a deterministic statistical pass over the
pairs' line diffs. Each scratchpad is stored in the run as a ``scratchpad`` event.
``ScratchpadHook`` is the search hook.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

from evolve.config import ScratchpadConfig
from evolve.database.ledger import Attempt
from evolve.database.records import ProgramRecord
from evolve.search.hooks import HookServices, Plan, PromptNotes, SearchHook

EVENT_KIND = "scratchpad"
SUMMARIZE_TEMPLATE = "summarize.j2"
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")
_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w.\[\]]*)\s*(?:[-+*/]?=)(?!=)")
_DEF = re.compile(r"^\s*def\s+(\w+)")
_OPERATORS = re.compile(r"<=|>=|==|!=|[-+*/<>]|\bmin\b|\bmax\b")


@dataclass
class Scratchpad:
    text: str = ""
    recommendations: list[str] = field(default_factory=list)
    evaluated: int = 0  # evaluated children when it was written
    source: str = ""  # "statistics" | "llm"

    def recommendation(self, index: int) -> str:
        return (
            self.recommendations[index % len(self.recommendations)] if self.recommendations else ""
        )

    def to_event(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_event(cls, data: dict[str, Any]) -> Scratchpad:
        return cls(
            text=str(data.get("text", "")),
            recommendations=[str(r) for r in data.get("recommendations", [])],
            evaluated=int(data.get("evaluated", 0)),
            source=str(data.get("source", "")),
        )


def _enclosing_function(lines: list[str], index: int) -> str:
    for i in range(min(index, len(lines) - 1), -1, -1):
        match = _DEF.match(lines[i])
        if match:
            return match.group(1)
    return ""


def change_kinds(parent: str, child: str) -> list[str]:
    """Short descriptions of each changed region: what kind of change, and where."""
    a, b = parent.splitlines(), child.splitlines()
    kinds: list[str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        where = _enclosing_function(a, i1)
        place = f" in {where}()" if where else ""
        if tag == "insert":
            kinds.append(f"adding statements{place}")
        elif tag == "delete":
            kinds.append(f"removing statements{place}")
        elif i2 - i1 == j2 - j1:
            for old, new in zip(a[i1:i2], b[j1:j2]):
                kinds.append(_line_change(old, new, place))
        else:
            kinds.append(f"rewriting a block{place}")
    return list(dict.fromkeys(kinds))


def _line_change(old: str, new: str, place: str) -> str:
    target = _ASSIGNED.match(old)
    name = f" `{target.group(1)}`" if target else ""
    if _NUMBER.sub("#", old) == _NUMBER.sub("#", new):
        return f"tuning the constant{name}{place}" if name else f"tuning constants{place}"
    if _OPERATORS.sub("@", old) == _OPERATORS.sub("@", new):
        return f"changing an operator{place}"
    return f"rewriting{name or ' a line'}{place}"


@dataclass
class _Outcome:
    kinds: list[str]
    improved: bool
    valid: bool
    delta: float
    reason: str


class ScratchpadBuilder:
    """Collects recent outcomes and decides when a new scratchpad is due."""

    def __init__(self, cfg: ScratchpadConfig) -> None:
        self.cfg = cfg
        self.recent: deque[_Outcome] = deque(maxlen=max(3 * cfg.every, 30))
        self.evaluated = 0
        self.current = Scratchpad()

    def observe(self, parent: ProgramRecord | None, child: ProgramRecord) -> None:
        if parent is None or child.origin != "llm":
            return
        self.evaluated += 1
        before = parent.score if parent.valid else None
        after = child.score if child.valid else None
        delta = after - before if after is not None and before is not None else 0.0
        self.recent.append(
            _Outcome(
                change_kinds(parent.code, child.code),
                delta > 0,
                child.valid,
                delta,
                _short_reason(child.reason),
            )
        )

    def due(self) -> bool:
        return self.evaluated >= self.current.evaluated + self.cfg.every and bool(self.recent)

    def statistics(self) -> Scratchpad:
        """A deterministic summary of the recent outcomes."""
        outcomes = list(self.recent)
        stats: dict[str, list[_Outcome]] = {}
        for outcome in outcomes:
            for kind in outcome.kinds or ["an unclassified change"]:
                stats.setdefault(kind, []).append(outcome)
        valid = sum(o.valid for o in outcomes)
        improved = sum(o.improved for o in outcomes)
        lines = [
            (
                f"Last {len(outcomes)} children: {improved} improved on their parent, "
                f"{len(outcomes) - valid} were invalid."
            )
        ]
        ranked = sorted(
            stats.items(), key=lambda kv: (-sum(o.improved for o in kv[1]), -len(kv[1]), kv[0])
        )
        for kind, group in ranked[:6]:
            wins = sum(o.improved for o in group)
            bad = sum(not o.valid for o in group)
            gains = [o.delta for o in group if o.improved]
            gain = f", mean gain {sum(gains) / len(gains):+.4g}" if gains else ""
            lines.append(f"- {kind}: {len(group)} tries, {wins} improved, {bad} invalid{gain}")
        reasons = Counter(o.reason for o in outcomes if not o.valid and o.reason)
        if reasons:
            reason, count = reasons.most_common(1)[0]
            lines.append(f"Most common failure ({count}x): {reason}")
        return Scratchpad(
            "\n".join(lines)[: self.cfg.max_chars],
            self._recommend(ranked, reasons, outcomes),
            self.evaluated,
            "statistics",
        )

    def _recommend(
        self,
        ranked: list[tuple[str, list[_Outcome]]],
        reasons: Counter[str],
        outcomes: list[_Outcome],
    ) -> list[str]:
        recs: list[str] = []
        for kind, group in ranked:
            wins = sum(o.improved for o in group)
            if wins and len(recs) < 2:
                recs.append(
                    f"Keep exploring {kind}: it improved the score in {wins} of {len(group)} tries."
                )
        for kind, group in sorted(ranked, key=lambda kv: -sum(not o.valid for o in kv[1])):
            bad = sum(not o.valid for o in group)
            if len(group) >= 2 and bad * 2 >= len(group):
                recs.append(
                    f"Avoid {kind}: {bad} of {len(group)} tries produced an invalid program."
                )
                break
        if reasons:
            recs.append(f"Guard against the most common failure: {reasons.most_common(1)[0][0]}")
        if not any(o.improved for o in outcomes) and ranked:
            recs.append(
                f"Nothing improved recently; try a different kind of change than {ranked[0][0]}."
            )
        return recs[: self.cfg.recommendations] or [
            "Make one small, targeted change and keep the program valid."
        ]

    def examples(self, limit: int = 6) -> list[dict[str, Any]]:
        """Recent outcomes in template-friendly form (for the LLM summarizer)."""
        return [
            {
                "kinds": o.kinds,
                "improved": o.improved,
                "valid": o.valid,
                "delta": o.delta,
                "reason": o.reason,
            }
            for o in list(self.recent)[-limit:]
        ]


def _short_reason(reason: str) -> str:
    first = (reason or "").strip().splitlines()[0] if (reason or "").strip() else ""
    return first[:160]


def parse_llm_scratchpad(text: str, evaluated: int, cfg: ScratchpadConfig) -> Scratchpad:
    """Split an answer to summarize.j2 into the scratchpad and its recommendations."""
    body, _, recs_part = text.partition("RECOMMENDATIONS")
    body = re.sub(r"^\s*SCRATCHPAD\s*:?\s*", "", body.strip(), flags=re.IGNORECASE).strip()
    source = recs_part if recs_part else text
    recs = [
        re.sub(r"^\s*(?:[-*]|\d+[.)])\s*", "", line).strip()
        for line in source.splitlines()
        if re.match(r"^\s*(?:[-*]|\d+[.)])\s+\S", line)
    ]
    if not recs_part:
        body = "\n".join(
            line for line in body.splitlines() if not re.match(r"^\s*(?:[-*]|\d+[.)])\s+\S", line)
        )
    return Scratchpad(body[: cfg.max_chars], recs[: cfg.recommendations], evaluated, "llm")


class ScratchpadHook(SearchHook):
    """Feeds the scratchpad with outcomes, rewrites it when due, shows it in prompts."""

    state_kind = EVENT_KIND

    def __init__(self, services: HookServices, settings: ScratchpadConfig) -> None:
        self.services = services
        self.settings = settings
        self.builder = ScratchpadBuilder(settings)
        self._summarizing = False
        self._written: dict[str, Any] | None = None

    def resume(self, state: dict[str, Any] | None, programs: list[ProgramRecord]) -> None:
        if state is not None:
            self.builder.current = Scratchpad.from_event(state)
        population = self.services.population
        children = [p for p in programs if p.origin == "llm"]
        tail = children[-(self.builder.recent.maxlen or 1) :]
        self.builder.evaluated = len(children) - len(tail)  # observe() counts the tail
        for child in tail:
            parent_id = child.parent_id
            known = parent_id is not None and parent_id in population
            self.builder.observe(population.get(parent_id) if parent_id and known else None, child)

    def before_prompt(self, plan: Plan) -> PromptNotes | None:
        pad = self.builder.current
        return PromptNotes(scratchpad=pad.text, recommendation=pad.recommendation(plan.iteration))

    async def after_outcome(self, attempt: Attempt, plan: Plan) -> None:
        if attempt.program is None:
            return
        self.builder.observe(plan.parent, attempt.program)
        if self._summarizing or not self.builder.due():
            return
        self._summarizing = True  # one rewrite at a time; concurrent iterations skip it
        try:
            note = self.builder.statistics()
            mode = self.settings.summarizer
            if mode == "llm" or (mode == "auto" and self.services.has_models):
                note = await self._llm_scratchpad(note, plan.iteration) or note
            self.builder.current = note
            self._written = {**note.to_event(), "iteration": plan.iteration}
        finally:
            self._summarizing = False

    def state(self) -> dict[str, Any] | None:
        written, self._written = self._written, None
        return written

    async def _llm_scratchpad(self, stats: Scratchpad, iteration: int) -> Scratchpad | None:
        text = self.services.render(
            SUMMARIZE_TEMPLATE, description=self.services.description, statistics=stats.text,
            previous=self.builder.current.text, examples=self.builder.examples(),
            recommendations=self.settings.recommendations,
        )  # fmt: skip
        completion = await self.services.ask(text, iteration)
        if completion is None:
            return None
        note = parse_llm_scratchpad(completion.text, stats.evaluated, self.settings)
        return note if note.text or note.recommendations else None
