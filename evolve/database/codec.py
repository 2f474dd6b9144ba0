"""Conversions between records and table rows (the only place that knows both)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from evolve.database.jsonsafe import finite_or_none, json_safe_dict
from evolve.database.models import evaluations_table, programs_table
from evolve.database.records import (
    COUNTER_NAMES,
    EventRecord,
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    RunRecord,
)


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
        "code": program.code,
        "features": json_safe_dict(program.features),
        "origin": program.origin,
        "model": program.model,
        "changed_lines": int(program.changed_lines),
        "created_at": float(program.created_at),
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
        p.features, p.origin, p.model, p.changed_lines, e.eval_s, p.created_at,
    ).select_from(programs_table.join(evaluations_table, e.program_id == p.id))  # fmt: skip


def program_from_row(row: Any) -> ProgramRecord:
    return ProgramRecord(
        id=row.id,
        run_id=row.run_id,
        code=row.code,
        parent_id=row.parent_id,
        island=row.island,
        generation=row.generation,
        iteration=row.iteration,
        valid=bool(row.valid),
        score=row.score,
        metrics=dict(row.metrics or {}),
        instances=dict(row.instances or {}),
        holdout=dict(row.holdout or {}),
        artifacts=dict(row.artifacts or {}),
        reason=row.reason,
        features=dict(row.features or {}),
        origin=row.origin,
        model=row.model,
        changed_lines=row.changed_lines,
        eval_s=row.eval_s,
        created_at=row.created_at,
    )


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
    }


def llm_call_from_row(row: Any) -> LLMCallRecord:
    return LLMCallRecord(
        run_id=row.run_id,
        program_id=row.program_id,
        iteration=row.iteration,
        model=row.model,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        cost_usd=row.cost_usd,
        latency_s=row.latency_s,
        ok=bool(row.ok),
        error=row.error,
        created_at=row.created_at,
    )


def run_from_row(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id,
        name=row.name,
        problem=row.problem,
        config=dict(row.config or {}),
        seed=row.seed,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def counters_from_row(row: Any) -> RunCounters:
    values = {name: getattr(row, name) for name in COUNTER_NAMES}
    values["usd"] = float(values["usd"])
    return RunCounters(**values)


def event_from_row(row: Any) -> EventRecord:
    return EventRecord(
        run_id=row.run_id,
        kind=row.kind,
        data=dict(row.data or {}),
        created_at=row.created_at,
        id=row.seq,
    )
