"""One answer of a model: asked, kept, read, and continued once when it was cut off.

Every call made for an answer becomes an :class:`LLMCallRecord` carrying its transcript
(the prompt and the raw answer, as ``llm.transcripts`` allows) and, once the answer has
been used, its outcome. An answer is read without its reasoning (``<think>`` blocks
stay in the stored answer only). An answer cut at ``llm.max_tokens`` that does not apply
gets one continuation request (``prompts/continue.j2``), counted and paid like any call,
and the two parts are read as one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from evolve.config import Config
from evolve.database.records import LLMCallRecord
from evolve.edits import EditResult, apply_response
from evolve.file_edits import apply_files_response
from evolve.llm.base import Completion, GenerationParams, LLMBackend, LLMError
from evolve.llm.failures import FailurePolicy
from evolve.llm.reasoning import answer_body
from evolve.llm.transcript import TranscriptPolicy
from evolve.prompts import PromptBuilder, PromptContext
from evolve.search.hooks import Plan

# Added to an edit error when the model stopped at max_tokens: the fix prompt then says why.
CUT_OFF_NOTE = (
    " (the answer was cut off at the llm.max_tokens limit: answer with a shorter edit,"
    " only the changed lines)"
)


@dataclass
class Answer:
    """Every call one answer took, and the edit read from it (None: the call failed, or
    a stop was requested before asking)."""

    calls: list[LLMCallRecord] = field(default_factory=list)
    edit: EditResult | None = None
    failure: LLMError | None = None
    cut_off: bool = False  # the edit failed and the (continued) answer ended at max_tokens
    notes: list[str] = field(default_factory=list)  # what the backends changed (run log)


class Asker:
    def __init__(self, cfg: Config, run_id: str, backend: LLMBackend, prompts: PromptBuilder,
                 failures: FailurePolicy, stop_requested: Callable[[], bool]) -> None:
        self.cfg = cfg
        self.run_id = run_id
        self.backend = backend
        self.prompts = prompts
        self.failures = failures
        self.stop_requested = stop_requested
        self.slots = asyncio.Semaphore(cfg.llm.concurrency)
        self.transcripts = TranscriptPolicy(cfg.llm)

    async def answer(self, plan: Plan, context: PromptContext, params: GenerationParams) -> Answer:
        """One answer; its calls hold one of the ``llm.concurrency`` slots throughout, so a
        continuation follows its cut answer directly."""
        messages = self.prompts.render(context)
        async with self.slots:
            return await self._answer(plan, context, params, messages)

    async def _answer(self, plan: Plan, context: PromptContext, params: GenerationParams,
                      messages: list[dict[str, str]]) -> Answer:
        reply = await self._send(messages, params)
        if reply is None:
            return Answer()
        if isinstance(reply, LLMError):
            return Answer([self._failed(messages, reply, plan.iteration)], failure=reply,
                          notes=list(reply.notes))
        found = Answer([self._record(messages, reply, plan.iteration)], notes=list(reply.notes))
        text = reply.text
        edit = self._apply(plan, text, context.mode)
        if not edit.ok and reply.finish_reason == "length" and self.cfg.llm.continue_cut_answers:
            follow = [*messages, {"role": "assistant", "content": text},
                      {"role": "user", "content": self.prompts.env.get_template(
                          "continue.j2").render()}]
            more = await self._send(follow, params)
            if more is not None:
                found.calls[-1].outcome = "continued"
            if isinstance(more, LLMError):
                found.calls.append(self._failed(follow, more, plan.iteration))
                found.failure = more
                found.notes += more.notes
                return found
            if more is not None:
                found.calls.append(self._record(follow, more, plan.iteration))
                found.notes += more.notes
                text, reply = text + more.text, more
                edit = self._apply(plan, text, context.mode)
        if not edit.ok and reply.finish_reason == "length":
            found.cut_off = True
            edit = dataclasses.replace(edit, error=edit.error + CUT_OFF_NOTE)
        found.edit = edit
        return found

    @staticmethod
    def _apply(plan: Plan, text: str, mode: str) -> EditResult:
        body = answer_body(text)  # reasoning is kept in the transcript, never parsed
        if plan.parent.files:
            return apply_files_response(plan.parent.files, body, mode)
        return apply_response(plan.parent.code, body, mode)

    async def _send(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion | LLMError | None:
        """An answer, the failure, or None when a stop was requested before asking."""
        if self.stop_requested():
            return None
        started = time.monotonic()
        try:
            completion = await self.backend.complete(messages, params)
        except LLMError as exc:
            exc.latency_s = time.monotonic() - started
            return exc
        self.failures.succeeded()
        return completion

    def _record(self, messages: list[dict[str, str]], completion: Completion,
                iteration: int) -> LLMCallRecord:
        record = call_record(self.run_id, iteration, completion)
        record.finish_reason = completion.finish_reason
        record.transcript = self.transcripts.capture(messages, completion.text,
                                                     completion.reasoning)
        return record

    def _failed(self, messages: list[dict[str, str]], exc: LLMError,
                iteration: int) -> LLMCallRecord:
        record = failed_call(self.run_id, iteration, exc)
        record.error = self.transcripts.redact(record.error)
        record.outcome = f"llm_failed:{exc.kind}"
        record.transcript = self.transcripts.capture(messages)
        return record


def call_record(
    run_id: str, iteration: int, completion: Completion, error: str = ""
) -> LLMCallRecord:
    return LLMCallRecord(
        run_id=run_id,
        program_id=None,
        iteration=iteration,
        model=completion.model,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        cost_usd=completion.cost_usd,
        latency_s=completion.latency_s,
        ok=not error,
        error=error,
        created_at=time.time(),
    )


def failed_call(run_id: str, iteration: int, exc: LLMError) -> LLMCallRecord:
    """The record of a failed call: what it was billed for (e.g. empty answers) and why."""
    usage = Completion(
        text="",
        model=exc.model,
        prompt_tokens=exc.prompt_tokens,
        completion_tokens=exc.completion_tokens,
        cost_usd=exc.cost_usd,
        latency_s=exc.latency_s,
    )
    return call_record(run_id, iteration, usage, error=str(exc))  # "kind: message"
