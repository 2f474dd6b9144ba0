"""``SearchHooks``: the search features the controller calls at a few fixed points.

- ``strategy``: adaptive exploration picks the prompt template and temperature;
- ``prompt_notes``: the scratchpad and one rotating recommendation for the prompt;
- ``screen``: after an answer is parsed, decide proceed / retry / discard (retry a
  failed edit once; novelty rejection with bounded resampling and an optional judge);
- ``on_outcome``: reward the bandit, feed the scratchpad;
- ``maybe_summarize``: write a new scratchpad when due.

State that must survive a resume is stored in the run as events (``bandit_state``,
``scratchpad``) and read back in ``resume``; rejections are ``novelty_rejected`` events.
Every extra LLM call (judge, summarizer) is stored and counted once, never as an
iteration.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from evolve.config import Config
from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.database.sampling import ProgramDatabase
from evolve.database.store import Store
from evolve.edits import EditResult
from evolve.llm.base import Completion, GenerationParams, LLMBackend, LLMError
from evolve.prompts import PromptBuilder
from evolve.search.bandit import improvement_reward
from evolve.search.exploration import Strategy, choose_strategy
from evolve.search.novelty import JUDGE_TEMPLATE, NoveltyFilter, parse_judgement
from evolve.search.scratchpad import EVENT_KIND, Scratchpad, ScratchpadBuilder, parse_llm_scratchpad

BANDIT_EVENT = "bandit_state"
SUMMARIZE_TEMPLATE = "summarize.j2"


@dataclass
class Decision:
    action: str  # "proceed" | "retry" | "discard"
    message: str = ""  # for "retry": why the answer was not used (shown by fix.j2)


class SearchHooks:
    def __init__(self, cfg: Config, store: Store, run_id: str, backend: LLMBackend,
                 prompts: PromptBuilder, db: ProgramDatabase, description: str = "") -> None:
        self.cfg = cfg
        self.search = cfg.search
        self.store = store
        self.run_id = run_id
        self.backend = backend
        self.prompts = prompts
        self.db = db
        self.description = description
        selector = getattr(backend, "selector", None)
        self.selector = selector if getattr(selector, "learns", False) else None
        self.novelty = NoveltyFilter(self.search.novelty) if self.search.novelty.enabled else None
        self.scratchpad = ScratchpadBuilder(self.search.scratchpad) if self.search.scratchpad.enabled else None
        self._summarizing = False
        # Extra answers one iteration may ask for: one edit retry, or the novelty resamples.
        retries = [1 if self.search.retry_failed_edit else 0]
        if self.novelty is not None:
            retries.append(self.search.novelty.max_resamples)
        self.max_attempts = 1 + max(retries)

    # ------------------------------------------------------------------ resume

    def resume(self, programs: list[ProgramRecord]) -> None:
        """Restore bandit and scratchpad state from the run's events and programs."""
        if self.selector is not None:
            states = self.store.events(self.run_id, BANDIT_EVENT)
            if states:
                self.selector.load(states[-1].data.get("arms", {}))
        if self.scratchpad is not None:
            pads = self.store.events(self.run_id, EVENT_KIND)
            if pads:
                self.scratchpad.current = Scratchpad.from_event(pads[-1].data)
            children = [p for p in programs if p.origin == "llm"]
            tail = children[-(self.scratchpad.recent.maxlen or 1):]
            self.scratchpad.evaluated = len(children) - len(tail)  # observe() counts the tail
            for child in tail:
                parent = self.db.get(child.parent_id) if child.parent_id and child.parent_id in self.db else None
                self.scratchpad.observe(parent, child)

    # ------------------------------------------------------------------ prompt

    def strategy(self, iteration: int, best_iteration: int) -> Strategy:
        return choose_strategy(self.search.exploration, iteration, best_iteration, self.cfg.llm.temperature)

    def prompt_notes(self, iteration: int) -> tuple[str, str]:
        """(scratchpad text, one recommendation) for the prompt; empty when off."""
        if self.scratchpad is None:
            return "", ""
        pad = self.scratchpad.current
        return pad.text, pad.recommendation(iteration)

    # ------------------------------------------------------------------ screening

    async def screen(self, edit: EditResult, parent: ProgramRecord, island: int, iteration: int,
                     attempt: int) -> Decision:
        if not edit.ok:
            if self.search.retry_failed_edit and attempt == 0:
                return Decision("retry", edit.error)
            return Decision("proceed")
        if self.novelty is None:
            return Decision("proceed")
        recent = self.db.islands[island].valid_ids[-self.search.novelty.compare_with:]
        verdict = await self.novelty.check(edit.code, [self.db.get(i) for i in recent] + [parent])
        if verdict.novel:
            return Decision("proceed")
        if self.search.novelty.llm_judge and await self._judge(edit.code, verdict.nearest_id, iteration):
            self.novelty.stats["judge_accepted"] += 1
            return Decision("proceed")
        self.novelty.stats["rejected"] += 1
        last = attempt + 1 >= self.max_attempts
        if last:
            self.novelty.stats["discarded"] += 1
        outcome = "discarded" if last else "resampled"
        self.store.add_event(self.run_id, "novelty_rejected", self.novelty.event(verdict, iteration, attempt, outcome))
        if last:
            return Decision("discard")
        return Decision("retry", f"Your change is almost identical to an existing program (similarity "
                                 f"{verdict.similarity:.2f}); propose a substantially different change.")

    async def _judge(self, code: str, nearest_id: str | None, iteration: int) -> bool:
        nearest = self.db.get(nearest_id).code if nearest_id and nearest_id in self.db else ""
        text = self.prompts.env.get_template(JUDGE_TEMPLATE).render(
            description=self.description, candidate=code, nearest=nearest, language="python")
        completion = await self._ask_side(text, iteration)
        return completion is not None and parse_judgement(completion.text)

    async def _ask_side(self, text: str, iteration: int) -> Completion | None:
        """One side call (judge, summarizer) to the first configured model, stored and counted."""
        backend = getattr(self.backend, "backends", [self.backend])[0]
        params = GenerationParams(temperature=0.0, max_tokens=min(self.cfg.llm.max_tokens, 1024),
                                  timeout_s=self.cfg.llm.timeout_s, seed=self.cfg.seed)
        started = time.monotonic()
        try:
            completion: Completion | None = await backend.complete([{"role": "user", "content": text}], params)
        except LLMError as exc:
            completion = None
            error, model = f"{exc.kind}: {exc}", getattr(backend, "name", "")
            usage = Completion("", model, exc.prompt_tokens, exc.completion_tokens, exc.cost_usd,
                               time.monotonic() - started)  # billed empty answers count too
        else:
            assert completion is not None
            error, usage = "", completion
        call = LLMCallRecord(run_id=self.run_id, iteration=iteration, model=usage.model,
                             prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                             cost_usd=usage.cost_usd, latency_s=usage.latency_s, ok=not error, error=error)
        self.store.add_llm_call(call, counters={"llm_calls": 1, "prompt_tokens": call.prompt_tokens,
                                                "completion_tokens": call.completion_tokens, "usd": call.cost_usd})
        return completion

    # ------------------------------------------------------------------ outcomes

    def on_outcome(self, parent: ProgramRecord, child: ProgramRecord | None, calls: list[LLMCallRecord]) -> None:
        """Credit the models that answered (only the last answer can earn a reward)."""
        if self.selector is not None and calls:
            for call in calls[:-1]:
                self.selector.update(call.model, 0.0, call.cost_usd)
            reward = 0.0
            if child is not None:
                reward = improvement_reward(parent.score if parent.valid else None, child.score, child.valid,
                                            self.cfg.llm.bandit.reward_clip)
            self.selector.update(calls[-1].model, reward, calls[-1].cost_usd)
            self.store.add_event(self.run_id, BANDIT_EVENT, {"arms": self.selector.state()})
        if self.scratchpad is not None and child is not None:
            self.scratchpad.observe(parent, child)

    async def maybe_summarize(self, iteration: int) -> None:
        pad = self.scratchpad
        if pad is None or self._summarizing or not pad.due():
            return
        self._summarizing = True
        try:
            note = pad.statistics()
            mode = self.search.scratchpad.summarizer
            if mode == "llm" or (mode == "auto" and self.cfg.llm.models):
                note = await self._llm_scratchpad(note, iteration) or note
            pad.current = note
            self.store.add_event(self.run_id, EVENT_KIND, {**note.to_event(), "iteration": iteration})
        finally:
            self._summarizing = False

    async def _llm_scratchpad(self, stats: Scratchpad, iteration: int) -> Scratchpad | None:
        assert self.scratchpad is not None
        variables: dict[str, Any] = {
            "description": self.description, "statistics": stats.text, "previous": self.scratchpad.current.text,
            "examples": self.scratchpad.examples(), "recommendations": self.search.scratchpad.recommendations,
        }
        text = self.prompts.env.get_template(SUMMARIZE_TEMPLATE).render(**variables)
        completion = await self._ask_side(text, iteration)
        if completion is None:
            return None
        note = parse_llm_scratchpad(completion.text, stats.evaluated, self.search.scratchpad)
        return note if note.text or note.recommendations else None
