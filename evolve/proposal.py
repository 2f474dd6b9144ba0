"""The propose stage of an iteration: prompt, ask, parse, screen (asking again if told to).

``Proposer.propose`` returns a :class:`Proposal`: the parsed edit to score, or the
outcome that ends the iteration early (the model failed, the edit did not apply, a hook
discarded the child, a stop was requested), always with every LLM call it made, each
marked with what its answer led to (``LLMCallRecord.outcome``). Asking and reading one
answer is :mod:`evolve.asking`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evolve.asking import CUT_OFF_NOTE, Answer, Asker
from evolve.config import Config
from evolve.database.ledger import Outcome
from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.edits import EditResult
from evolve.llm.base import EditRequest, GenerationParams, LLMBackend, LLMError
from evolve.llm.failures import FailurePolicy
from evolve.prompts import ProgramView, PromptBuilder, PromptContext, program_language
from evolve.search.hooks import Candidate, Plan, PromptNotes, SearchHooks
from evolve.search.population import Sample

__all__ = ["CUT_OFF_NOTE", "Proposal", "Proposer", "Request"]


@dataclass(frozen=True)
class Request:
    """The first prompt of an iteration and how to ask it."""

    context: PromptContext
    params: GenerationParams


@dataclass
class Proposal:
    """What the propose stage produced: an edit to score (``outcome`` None) or an
    early outcome; ``calls`` holds every LLM call of the iteration."""

    calls: list[LLMCallRecord]
    edit: EditResult | None = None
    outcome: Outcome | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failure: LLMError | None = None
    notes: list[str] = field(default_factory=list)  # what the backends changed (run log)


class Proposer:
    def __init__(
        self,
        cfg: Config,
        description: str,
        run_id: str,
        backend: LLMBackend,
        prompts: PromptBuilder,
        hooks: SearchHooks,
        failures: FailurePolicy,
        stop_requested: Callable[[], bool],
    ) -> None:
        self.cfg = cfg
        self.description = description
        self.run_id = run_id
        self.backend = backend
        self.prompts = prompts
        self.hooks = hooks
        self.failures = failures
        self.stop_requested = stop_requested
        self.asker = Asker(cfg, run_id, backend, prompts, failures, stop_requested)

    def request(self, plan: Plan, sample: Sample, notes: PromptNotes, edit_error: str) -> Request:
        """The prompt context and generation parameters of an iteration."""
        prompt, iteration = self.cfg.prompt, plan.iteration
        every = prompt.rewrite_every
        artifacts = prompt.include_artifacts

        def view(record: ProgramRecord, compare: bool = True) -> ProgramView:
            # Folder programs: the parent's files within prompt.file_chars; the others
            # show only the editable files in which they differ from the parent.
            return ProgramView.from_record(
                record, artifacts, prompt.file_chars, self.cfg.languages,
                plan.parent.files if compare else None)

        parent = view(plan.parent, compare=False)
        context = PromptContext(
            description=self.description,
            parent=parent,
            inspirations=[view(p) for p in sample.inspirations],
            failures=[view(p) for p in sample.failures],
            hints=self._released_hints(iteration, plan.best_iteration),
            edit_error=edit_error,
            mode="rewrite" if every and iteration % every == 0 else prompt.mode,
            max_changed_lines=self.cfg.constraints.max_changed_lines,
            language=program_language(parent, PromptContext.language),
            strategy=notes.strategy,
            scratchpad=notes.scratchpad,
            recommendation=notes.recommendation,
        )
        temperature = self.cfg.llm.temperature if notes.temperature is None else notes.temperature
        params = GenerationParams(
            temperature=temperature,
            max_tokens=self.cfg.llm.max_tokens,
            timeout_s=self.cfg.llm.timeout_s,
            seed=self.cfg.seed * 1_000_003 + iteration,
            context=edit_request(context),
        )
        return Request(context, params)

    def _released_hints(self, iteration: int, best_iteration: int) -> list[str]:
        stagnation = iteration - best_iteration
        return [
            h.text
            for h in self.cfg.hints
            if iteration >= h.after_iterations
            and (h.on_stagnation is None or stagnation >= h.on_stagnation)
        ]

    async def propose(self, plan: Plan, request: Request) -> Proposal:
        """Ask until an answer is to be scored or the iteration ends (see the module doc)."""
        calls: list[LLMCallRecord] = []
        notes: list[str] = []
        context, params = request.context, request.params
        answers = self.hooks.max_answers
        for answer in range(answers):
            reply = await self.asker.answer(plan, context, params)
            calls += reply.calls
            notes += reply.notes
            if reply.failure is not None:
                failure = reply.failure
                failed = Proposal(calls, outcome=Outcome.LLM_FAILED, failure=failure, notes=notes)
                failed.events.append(
                    (
                        "llm_failed",
                        {"iteration": plan.iteration, "kind": failure.kind, "error": str(failure)},
                    )
                )
                return failed
            if reply.edit is None:
                return Proposal(calls, outcome=Outcome.STOPPED, notes=notes)
            edit = reply.edit
            verdict = await self.hooks.screen(Candidate(plan, edit, answer, answers - answer - 1))
            calls[-1].outcome = answer_outcome(reply, verdict.action)
            if verdict.action == "discard":
                return Proposal(calls, edit, Outcome.DISCARDED, notes=notes)
            if verdict.action == "proceed":
                break
            # Ask again for the same parent; the fix prompt says why.
            context = dataclasses.replace(context, edit_error=verdict.message)
            params = dataclasses.replace(
                params, seed=(params.seed or 0) + 1, context=edit_request(context)
            )
        if not edit.ok:
            event = {"iteration": plan.iteration, "error": edit.error,
                     "kind": calls[-1].outcome.partition(":")[2]}
            return Proposal(calls, edit, Outcome.EDIT_FAILED, [("edit_failed", event)],
                            notes=notes)
        return Proposal(calls, edit, notes=notes)


def answer_outcome(answer: Answer, action: str) -> str:
    """What an answer led to (``LLMCallRecord.outcome``), given the hooks' verdict."""
    edit = answer.edit
    if edit is None or not edit.ok:
        kind = "cut_off" if answer.cut_off else (edit.kind if edit is not None else "") or "other"
        return f"edit_failed:{kind}"
    if action != "proceed":
        return "discarded"  # screened out (a near-copy), or asked again for another reason
    return "candidate:" + "+".join(edit.lenient) if edit.lenient else "candidate"


def edit_request(context: PromptContext) -> EditRequest:
    return EditRequest(
        parent_code=context.parent.code,
        inspirations=[(v.id, v.code) for v in context.inspirations],
        mode=context.mode,
        language=context.language,
        max_changed_lines=context.max_changed_lines,
        files=dict(context.parent.file_texts),
        file_languages={f.path: f.language for f in context.parent.files},
        inspiration_files=[(v.id, dict(v.file_texts)) for v in context.inspirations],
    )
