"""`evolve show RUN ... --prompt/--answer/--failures`: what a model was asked and answered.

Calls are addressed by the program they produced (``evolve show RUN ID --prompt``), by
iteration (``--iteration N``: every call of that iteration, failed ones included) or by
call id (``--call ID``, the number ``--failures`` lists). Prompts and answers are hostile
text: printed cleaned (``safe_text.clean``) and never as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from evolve.database.answers import failure_reason
from evolve.database.records import LLMCallRecord, ProgramRecord
from evolve.errors import UserError
from evolve.report.answer_texts import edit_errors
from evolve.report.shown import shown_call
from evolve.report.source import RunHandle
from evolve.safe_text import clean, line

TRANSCRIPT_CHARS = 1_000_000  # per text printed (stored texts are capped by max_chars already)
FAILURES_LISTED = 500


def calls_of(handle: RunHandle, program: ProgramRecord | None = None,
             iteration: int | None = None, call_id: int | None = None) -> list[LLMCallRecord]:
    """The calls behind a program, of an iteration, or the one call with ``call_id``."""
    if call_id is not None:
        found = handle.store.llm_call(call_id)
        if found.run_id != handle.run_id:
            raise UserError(f"LLM call {call_id} belongs to another run", "--call")
        return [found]
    calls = handle.store.llm_calls(handle.run_id)
    if program is not None:
        return [c for c in calls if c.program_id == program.id]
    chosen = [c for c in calls if c.iteration == iteration]
    if not chosen:
        raise UserError(f"no LLM call was made in iteration {iteration}", "--iteration")
    return chosen


def _title(call: LLMCallRecord) -> str:
    shown = shown_call(call)
    outcome = line(failure_reason(call) or call.outcome or "outcome not recorded", 120)
    finish = f", finish {line(call.finish_reason, 20)}" if call.finish_reason else ""
    return (f"call {call.id} · iteration {call.iteration} · {shown.model or '-'} · "
            f"{outcome}{finish} · {call.prompt_tokens}+{call.completion_tokens} tokens")


def show_transcripts(console: Console, handle: RunHandle, calls: list[LLMCallRecord],
                     prompt: bool, answer: bool, edit_error: dict[int, str] | None = None) -> None:
    """Each call's prompt and/or answer, as kept in the store."""
    errors = edit_error if edit_error is not None else edit_errors(handle)
    for call in calls:
        console.print(Text(f"── {_title(call)}", style="bold"), soft_wrap=True)
        if not call.ok:
            console.print(Text(f"error: {shown_call(call).error}", style="red"), soft_wrap=True)
        elif call.outcome.startswith("edit_failed") and call.iteration in errors:
            console.print(Text(f"edit failed: {errors[call.iteration]}", style="red"),
                          soft_wrap=True)
        kept = handle.store.transcript(call.id) if call.id is not None else None
        if kept is None:
            console.print(Text("(no prompt or answer kept for this call: llm.transcripts "
                               "was off, or the run predates transcripts)", style="dim"))
            continue
        if prompt:
            for message in kept.messages:
                console.print(Text(f"[prompt: {line(message['role'], 40)}]", style="cyan"))
                console.print(Text(clean(message["content"], TRANSCRIPT_CHARS)), soft_wrap=True)
        if answer:
            if kept.reasoning:
                console.print(Text("[reasoning]", style="cyan"))
                console.print(Text(clean(kept.reasoning, TRANSCRIPT_CHARS)), soft_wrap=True)
            console.print(Text("[answer]", style="cyan"))
            console.print(Text(clean(kept.answer, TRANSCRIPT_CHARS) or "(no answer)"),
                          soft_wrap=True)


def show_failures(console: Console, handle: RunHandle) -> None:
    """Every answer that produced no candidate: call id, iteration, model, reason, detail."""
    errors = edit_errors(handle)
    failed = [c for c in handle.store.llm_calls(handle.run_id) if failure_reason(c)]
    if not failed:
        console.print("every answer of this run produced a candidate")
        return
    table = Table(title=f"{len(failed)} answers without a candidate (prompt and answer: "
                        "evolve show RUN --call ID)", title_justify="left")
    for name in ("call", "iteration", "model", "reason", "detail"):
        table.add_column(name, justify="right" if name in ("call", "iteration") else "left")
    for call in failed[:FAILURES_LISTED]:
        shown = shown_call(call)
        detail = shown.error if not call.ok else errors.get(call.iteration, "")
        table.add_row(str(call.id), str(call.iteration), Text(shown.model or "-"),
                      Text(failure_reason(call)), Text(line(detail, 300)))
    console.print(table)
    if len(failed) > FAILURES_LISTED:
        console.print(f"... and {len(failed) - FAILURES_LISTED} more", style="dim")
