"""``Store``: the durable truth of every run, one transaction per program.

Everything a program brings (its row, its evaluation, the LLM calls that produced
it, the counters they add up to) is written in ONE transaction, so a crash leaves
either all of it or none of it. Adding a program id that is already stored is a
no-op that returns False: a resumed controller may retry a write it is unsure of.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from evolve.database import codec
from evolve.database.engine import READ_ONLY, create_store_engine, describe, normalize_url
from evolve.database.jsonsafe import json_safe_dict
from evolve.database.models import (
    evaluations_table,
    events_table,
    llm_calls_table,
    programs_table,
    run_counters_table,
    runs_table,
)
from evolve.database.records import (
    COUNTER_NAMES,
    EventRecord,
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    RunRecord,
    new_id,
)
from evolve.errors import UserError

PAGE_SIZE = 500  # programs read per query when iterating a run

# Statements built once and executed with parameters: building them per call (values(...))
# costs more than SQLite's own work for a small transaction.
_PROGRAM_EXISTS = select(programs_table.c.seq).where(programs_table.c.id == bindparam("pid"))
_INSERT_PROGRAM = programs_table.insert()
_INSERT_EVALUATION = evaluations_table.insert()
_INSERT_LLM_CALL = llm_calls_table.insert()
_INCREMENT_COUNTERS = (
    update(run_counters_table)
    .where(run_counters_table.c.run_id == bindparam("counters_run_id"))
    .values({name: run_counters_table.c[name] + bindparam(f"d_{name}") for name in COUNTER_NAMES})
)


class Store:
    """Repository over SQLAlchemy; SQLite and PostgreSQL differ only in ``url``.

    ``url`` is a SQLAlchemy URL (``sqlite:///runs/x/evolve.db``,
    ``postgresql+psycopg://user@host/db``) or a plain file path (SQLite). A missing
    SQLite file is created; an existing file that is not an evolve database is refused
    with ``UserError``. Use ``Store.open_existing`` to refuse a missing one too.
    """

    def __init__(self, url: str | Path, *, _must_exist: bool = False) -> None:
        self.url = normalize_url(url)
        self.where = describe(self.url)
        self.engine: Engine = create_store_engine(self.url, must_exist=_must_exist)

    @classmethod
    def open_existing(cls, url: str | Path) -> Store:
        """Open a database that must already exist and be an evolve database."""
        return cls(url, _must_exist=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ runs

    def create_run(self, name: str, problem: str, config: dict[str, Any], seed: int) -> str:
        run_id = new_id()
        now = time.time()
        with self.engine.begin() as conn:
            conn.execute(
                runs_table.insert().values(
                    id=run_id,
                    name=name,
                    problem=problem,
                    config=json_safe_dict(config),
                    seed=int(seed),
                    status="running",
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(
                run_counters_table.insert().values(
                    run_id=run_id, **{name: 0 for name in COUNTER_NAMES}
                )
            )
        return run_id

    def get_run(self, run_id: str) -> RunRecord:
        with self._read() as conn:
            row = conn.execute(select(runs_table).where(runs_table.c.id == run_id)).first()
        if row is None:
            raise UserError(f"no run with id {run_id!r}", self.where)
        return codec.run_from_row(row)

    def runs(self) -> list[RunRecord]:
        """All runs, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(runs_table).order_by(runs_table.c.created_at)).all()
        return [codec.run_from_row(row) for row in rows]

    def set_run_status(self, run_id: str, status: str) -> None:
        with self.engine.begin() as conn:
            result = conn.execute(
                update(runs_table)
                .where(runs_table.c.id == run_id)
                .values(status=status, updated_at=time.time())
            )
            if result.rowcount == 0:
                raise UserError(f"no run with id {run_id!r}", self.where)

    # ------------------------------------------------------------------ writes

    def add_program(
        self,
        program: ProgramRecord,
        llm_calls: Iterable[LLMCallRecord] = (),
        counters: Mapping[str, float] | None = None,
    ) -> bool:
        """Write a program, its evaluation, its LLM calls and counter increments at once.

        ``counters`` is the increment to the run's counters; when None it is derived:
        one evaluation (valid or invalid) unless the program is a migration copy, one
        iteration for an "llm" child, and the calls' count, tokens and cost. Returns
        False (and writes nothing) when a program with this id is already stored.
        """
        calls = list(llm_calls)
        delta = _checked_delta(counters) if counters is not None else _derived_delta(program, calls)
        try:
            with self.engine.begin() as conn:
                if conn.execute(_PROGRAM_EXISTS, {"pid": program.id}).first() is not None:
                    return False
                conn.execute(_INSERT_PROGRAM, codec.program_row(program))
                conn.execute(_INSERT_EVALUATION, codec.evaluation_row(program))
                if calls:
                    conn.execute(
                        _INSERT_LLM_CALL,
                        [codec.llm_call_row(call, default_program_id=program.id) for call in calls],
                    )
                self._increment(conn, program.run_id, delta)
        except IntegrityError:
            # Another writer stored the same id between our check and insert (PostgreSQL
            # READ COMMITTED); the transaction rolled back, so nothing was double-counted.
            if self._program_exists(program.id):
                return False
            raise
        return True

    def add_llm_call(
        self, call: LLMCallRecord, counters: Mapping[str, float] | None = None
    ) -> None:
        """Record a call not tied to a stored program (e.g. a failed one) and count it."""
        delta = _checked_delta(counters) if counters is not None else _derived_delta(None, [call])
        with self.engine.begin() as conn:
            conn.execute(_INSERT_LLM_CALL, codec.llm_call_row(call))
            self._increment(conn, call.run_id, delta)

    def add_counters(self, run_id: str, counters: Mapping[str, float]) -> None:
        """Increment counters on their own (e.g. an iteration whose edit did not apply)."""
        delta = _checked_delta(counters)
        with self.engine.begin() as conn:
            self._increment(conn, run_id, delta)

    def add_event(self, run_id: str, kind: str, data: Mapping[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                events_table.insert().values(
                    run_id=run_id,
                    kind=kind,
                    data=json_safe_dict(dict(data or {})),
                    created_at=time.time(),
                )
            )

    # ------------------------------------------------------------------ reads

    def programs(self, run_id: str, island: int | None = None) -> Iterator[ProgramRecord]:
        """Programs of a run in insertion order, read page by page (no long transaction)."""
        last_seq = 0
        while True:
            query = (
                codec.program_select()
                .where(programs_table.c.run_id == run_id, programs_table.c.seq > last_seq)
                .order_by(programs_table.c.seq)
                .limit(PAGE_SIZE)
            )
            if island is not None:
                query = query.where(programs_table.c.island == island)
            with self._read() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield codec.program_from_row(row)
            if len(rows) < PAGE_SIZE:
                return
            last_seq = rows[-1].seq

    def get_program(self, program_id: str) -> ProgramRecord:
        query = codec.program_select().where(programs_table.c.id == program_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UserError(f"no program with id {program_id!r}", self.where)
        return codec.program_from_row(row)

    def best_program(self, run_id: str) -> ProgramRecord | None:
        """The valid program with the highest score (the earliest one on ties)."""
        query = (
            codec.program_select()
            .where(
                programs_table.c.run_id == run_id,
                programs_table.c.valid.is_(True),
                programs_table.c.score.is_not(None),
            )
            .order_by(programs_table.c.score.desc(), programs_table.c.seq)
            .limit(1)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return codec.program_from_row(row) if row is not None else None

    def count_programs(self, run_id: str, valid: bool | None = None) -> int:
        query = select(func.count()).select_from(programs_table)
        query = query.where(programs_table.c.run_id == run_id)
        if valid is not None:
            query = query.where(programs_table.c.valid.is_(valid))
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def counters(self, run_id: str) -> RunCounters:
        query = select(run_counters_table).where(run_counters_table.c.run_id == run_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UserError(f"no run with id {run_id!r}", self.where)
        return codec.counters_from_row(row)

    def llm_calls(self, run_id: str) -> list[LLMCallRecord]:
        query = (
            select(llm_calls_table)
            .where(llm_calls_table.c.run_id == run_id)
            .order_by(llm_calls_table.c.seq)
        )
        with self._read() as conn:
            return [codec.llm_call_from_row(row) for row in conn.execute(query)]

    def events(self, run_id: str, kind: str | None = None) -> list[EventRecord]:
        query = select(events_table).where(events_table.c.run_id == run_id)
        if kind is not None:
            query = query.where(events_table.c.kind == kind)
        with self._read() as conn:
            rows = conn.execute(query.order_by(events_table.c.seq)).all()
        return [codec.event_from_row(row) for row in rows]

    # ------------------------------------------------------------------ helpers

    def _read(self) -> Connection:
        return self.engine.connect().execution_options(**{READ_ONLY: True})

    def _program_exists(self, program_id: str) -> bool:
        with self._read() as conn:
            return conn.execute(_PROGRAM_EXISTS, {"pid": program_id}).first() is not None

    def _increment(self, conn: Connection, run_id: str, delta: dict[str, float]) -> None:
        if not delta:
            return
        # "x = x + d" in one UPDATE: atomic on both backends, no read-modify-write.
        params: dict[str, object] = {f"d_{name}": delta.get(name, 0) for name in COUNTER_NAMES}
        params["counters_run_id"] = run_id
        result = conn.execute(_INCREMENT_COUNTERS, params)
        if result.rowcount == 0:
            raise UserError(f"no run with id {run_id!r}", self.where)


def _derived_delta(program: ProgramRecord | None, calls: list[LLMCallRecord]) -> dict[str, float]:
    delta: dict[str, float] = {}
    if program is not None and program.origin != "migration":
        delta["evaluations"] = 1
        delta["valid" if program.valid else "invalid"] = 1
        if program.origin == "llm":
            delta["iterations"] = 1
    if calls:
        delta["llm_calls"] = len(calls)
        delta["prompt_tokens"] = sum(int(call.prompt_tokens) for call in calls)
        delta["completion_tokens"] = sum(int(call.completion_tokens) for call in calls)
        delta["usd"] = sum(float(call.cost_usd) for call in calls)
    return {name: amount for name, amount in delta.items() if amount}


def _checked_delta(counters: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(counters) - set(COUNTER_NAMES))
    if unknown:
        raise ValueError(f"unknown counters {unknown} (known: {', '.join(COUNTER_NAMES)})")
    return {name: amount for name, amount in counters.items() if amount}
