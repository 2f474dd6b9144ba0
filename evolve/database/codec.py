"""Conversions between records and table rows (the only place that knows both).

Rows are read leniently (``evolve.database.lenient``): a run folder may come from
anyone, and one damaged field must not make a whole run unreadable.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from sqlalchemy import Select, select

from evolve.database.jsonsafe import finite_or_none, json_safe_dict
from evolve.database.lenient import finite, mapping, number, numbers, text, whole
from evolve.database.models import evaluations_table, programs_table
from evolve.database.records import (
    COUNTER_NAMES,
    EventRecord,
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    RunRecord,
    Transcript,
)

# A stored transcript inflates to at most this many bytes: a run folder from elsewhere
# may hold a compression bomb.
MAX_TRANSCRIPT_BYTES = 16_000_000


def program_row(program: ProgramRecord) -> dict[str, Any]:
    score = finite_or_none(program.score)  # NaN/inf cannot be ranked: stored as NULL
    return {
        "id": program.id,
        "run_id": program.run_id,
        "parent_id": program.parent_id,
        "island": int(program.island),
        "generation": int(program.generation),
        "iteration": int(program.iteration),
        "valid": bool(program.valid),
        "score": score,
        # A folder program's text lives in its files (evolve.database.files), once.
        "code": "" if program.files else program.code,
        "file_count": len(program.files),
        "features": json_safe_dict(program.features),
        "origin": program.origin,
        "model": program.model,
        "changed_lines": int(program.changed_lines),
        "created_at": float(program.created_at),
        "metadata": json_safe_dict(program.metadata),
    }


def evaluation_row(program: ProgramRecord) -> dict[str, Any]:
    score = finite_or_none(program.score)
    return {
        "program_id": program.id,
        "valid": bool(program.valid),
        "score": score,
        "metrics": json_safe_dict(program.metrics),
        "instances": json_safe_dict(program.instances),
        "holdout": json_safe_dict(program.holdout),
        "artifacts": json_safe_dict(program.artifacts),
        "reason": program.reason,
        "eval_s": float(program.eval_s),
    }


def program_select() -> Select[Any]:
    """programs joined with their evaluation, every column a ProgramRecord needs."""
    p, e = programs_table.c, evaluations_table.c
    return select(
        p.seq, p.id, p.run_id, p.code, p.parent_id, p.island, p.generation, p.iteration,
        e.valid, e.score, e.metrics, e.instances, e.holdout, e.artifacts, e.reason,
        p.features, p.origin, p.model, p.changed_lines, e.eval_s, p.created_at, p.file_count,
        p.metadata,
    ).select_from(programs_table.join(evaluations_table, e.program_id == p.id))  # fmt: skip


def program_from_row(row: Any) -> ProgramRecord:
    record = ProgramRecord(
        id=text(row.id),
        run_id=text(row.run_id),
        code=text(row.code),
        parent_id=None if row.parent_id is None else text(row.parent_id),
        island=whole(row.island),
        generation=whole(row.generation),
        iteration=whole(row.iteration),
        valid=bool(row.valid),
        score=finite(row.score),
        metrics=mapping(row.metrics),
        instances=mapping(row.instances),
        holdout=mapping(row.holdout),
        artifacts=mapping(row.artifacts),
        reason=text(row.reason),
        features=numbers(row.features),
        model=text(row.model),
        changed_lines=whole(row.changed_lines),
        eval_s=number(row.eval_s),
        created_at=number(row.created_at),
        metadata=mapping(row.metadata),
    )
    # Set after construction: a stored origin this version does not know is shown as it
    # is, not refused (the record's check guards what is written, not what was).
    record.origin = text(row.origin)
    return record


def llm_call_row(call: LLMCallRecord, default_program_id: str | None = None) -> dict[str, Any]:
    return {
        "run_id": call.run_id,
        "program_id": call.program_id if call.program_id is not None else default_program_id,
        "iteration": call.iteration,
        "model": call.model,
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "cost_usd": call.cost_usd,
        "latency_s": call.latency_s,
        "ok": call.ok,
        "error": call.error,
        "created_at": call.created_at,
        "outcome": call.outcome[:64],  # the columns' widths (PostgreSQL refuses longer text)
        "finish_reason": call.finish_reason[:32],
    }


def llm_call_from_row(row: Any) -> LLMCallRecord:
    return LLMCallRecord(
        run_id=text(row.run_id),
        program_id=None if row.program_id is None else text(row.program_id),
        iteration=whole(row.iteration),
        model=text(row.model),
        prompt_tokens=whole(row.prompt_tokens),
        completion_tokens=whole(row.completion_tokens),
        cost_usd=number(row.cost_usd),
        latency_s=number(row.latency_s),
        ok=bool(row.ok),
        error=text(row.error),
        created_at=number(row.created_at),
        outcome=text(row.outcome),
        finish_reason=text(row.finish_reason),
        id=whole(row.seq),
    )


def transcript_row(call_seq: int, run_id: str, transcript: Transcript) -> dict[str, Any]:
    document = {"messages": transcript.messages, "answer": transcript.answer,
                "reasoning": transcript.reasoning}
    raw = json.dumps(document, ensure_ascii=False).encode("utf-8", "replace")
    chars = sum(len(m.get("content", "")) for m in transcript.messages)
    chars += len(transcript.answer) + len(transcript.reasoning)
    return {"call_seq": call_seq, "run_id": run_id, "data": zlib.compress(raw, 6),
            "chars": chars}


def transcript_from_data(data: Any) -> Transcript:
    """A stored transcript; damaged or oversized data gives a transcript that says so."""
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(bytes(data), MAX_TRANSCRIPT_BYTES)
        if inflater.unconsumed_tail:
            return Transcript(answer=f"(transcript larger than {MAX_TRANSCRIPT_BYTES} bytes)")
        document = json.loads(raw.decode("utf-8", "replace"))
    except (TypeError, ValueError, zlib.error, RecursionError) as exc:
        return Transcript(answer=f"(damaged transcript: {type(exc).__name__})")
    if not isinstance(document, dict):
        return Transcript(answer="(damaged transcript: not an object)")
    raw_messages = document.get("messages")
    messages = [
        {"role": text(m.get("role")), "content": text(m.get("content"))}
        for m in (raw_messages if isinstance(raw_messages, list) else [])
        if isinstance(m, dict)
    ]
    return Transcript(messages, text(document.get("answer")), text(document.get("reasoning")))


def run_from_row(row: Any) -> RunRecord:
    return RunRecord(
        id=text(row.id),
        name=text(row.name),
        problem=text(row.problem),
        config=mapping(row.config),
        seed=whole(row.seed),
        status=text(row.status),
        created_at=number(row.created_at),
        updated_at=number(row.updated_at),
    )


def counters_from_row(row: Any) -> RunCounters:
    values: dict[str, Any] = {name: whole(getattr(row, name)) for name in COUNTER_NAMES}
    values["usd"] = number(row.usd)
    return RunCounters(**values)


def event_from_row(row: Any) -> EventRecord:
    return EventRecord(
        run_id=text(row.run_id),
        kind=text(row.kind),
        data=mapping(row.data),
        created_at=number(row.created_at),
        id=row.seq,
    )
