"""``Store``: the durable truth of every run, one transaction per program.

Everything a ledger entry (:class:`~evolve.database.ledger.Attempt`) brings (its
programs and their evaluations, its LLM calls and events, the counter increments it
decided) is written in ONE transaction, so a crash leaves either all of it or none of
it. The store decides no counts: it adds the increments it is given. Writing a program
id that is already stored is a no-op that returns False: a resumed controller may retry
a write it is unsure of.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from evolve.database import codec, files
from evolve.database.engine import READ_ONLY, create_store_engine, describe, normalize_url
from evolve.database.jsonsafe import json_safe_dict
from evolve.database.ledger import Attempt
from evolve.database.models import (
    evaluations_table,
    events_table,
    llm_calls_table,
    llm_transcripts_table,
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
    Transcript,
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
_INSERT_TRANSCRIPT = llm_transcripts_table.insert()
_INSERT_EVENT = events_table.insert()
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

    def __init__(
        self, url: str | Path, *, _must_exist: bool = False, _reader: bool = False
    ) -> None:
        self.url = normalize_url(url)
        self.where = describe(self.url)
        self.engine: Engine = create_store_engine(self.url, must_exist=_must_exist, reader=_reader)

    @classmethod
    def open_existing(cls, url: str | Path) -> Store:
        """Open a database that must already exist and be an evolve database."""
        return cls(url, _must_exist=True)

    @classmethod
    def open_for_reading(cls, url: str | Path) -> Store:
        """Open an existing evolve database for browsing: nothing is ever written, a
        locked database fails within about a second, and database errors (a damaged
        file, a missing table) raise ``UserError``."""
        return cls(url, _must_exist=True, _reader=True)

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
                    run_id=run_id, **dict.fromkeys(COUNTER_NAMES, 0)
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

    def commit(self, attempt: Attempt) -> bool:
        """Write a ledger entry and add ``attempt.counters()``, in one transaction.

        Returns False (and writes nothing) when one of its programs is already stored.
        """
        return self._write(
            attempt.run_id, attempt.programs, attempt.calls, attempt.events, attempt.counters()
        )

    def add_program(
        self,
        program: ProgramRecord,
        llm_calls: Iterable[LLMCallRecord] = (),
        counters: Mapping[str, float] | None = None,
    ) -> bool:
        """Write a program, its evaluation, its LLM calls and ``counters`` (increments;
        None adds nothing) at once. False (nothing written) if the id is already stored."""
        delta = _checked_delta(counters or {})
        return self._write(program.run_id, [program], list(llm_calls), [], delta)

    def add_llm_call(
        self, call: LLMCallRecord, counters: Mapping[str, float] | None = None
    ) -> None:
        """Record a call not tied to a stored program with ``counters`` (None adds nothing)."""
        self._write(call.run_id, [], [call], [], _checked_delta(counters or {}))

    def add_counters(self, run_id: str, counters: Mapping[str, float]) -> None:
        """Increment counters on their own (e.g. an iteration whose edit did not apply)."""
        delta = _checked_delta(counters)
        with self.engine.begin() as conn:
            self._increment(conn, run_id, delta)

    def add_event(self, run_id: str, kind: str, data: Mapping[str, Any] | None = None) -> None:
        event = EventRecord(run_id=run_id, kind=kind, data=dict(data or {}))
        with self.engine.begin() as conn:
            conn.execute(_INSERT_EVENT, _event_row(event))

    def _write(
        self,
        run_id: str,
        programs: list[ProgramRecord],
        calls: list[LLMCallRecord],
        events: list[EventRecord],
        delta: Mapping[str, float],
    ) -> bool:
        owner = programs[0].id if programs else None
        try:
            with self.engine.begin() as conn:
                for program in programs:
                    if conn.execute(_PROGRAM_EXISTS, {"pid": program.id}).first() is not None:
                        return False
                for program in programs:  # one row each: cheaper than executemany for one
                    conn.execute(_INSERT_PROGRAM, codec.program_row(program))
                    conn.execute(_INSERT_EVALUATION, codec.evaluation_row(program))
                files.write_files(conn, programs)
                self._insert_calls(conn, calls, owner)
                if events:
                    conn.execute(_INSERT_EVENT, [_event_row(event) for event in events])
                self._increment(conn, run_id, delta)
        except IntegrityError:
            # Another writer stored the same id between our check and insert (PostgreSQL
            # READ COMMITTED); the transaction rolled back, so nothing was double-counted.
            if any(self._program_exists(p.id) for p in programs):
                return False
            raise
        return True

    @staticmethod
    def _insert_calls(conn: Connection, calls: list[LLMCallRecord], owner: str | None) -> None:
        """Calls in one statement; one by one when a transcript needs its call's seq."""
        if not calls:
            return
        rows = [codec.llm_call_row(call, default_program_id=owner) for call in calls]
        if all(call.transcript is None for call in calls):
            conn.execute(_INSERT_LLM_CALL, rows)
            return
        for call, row in zip(calls, rows):
            key = conn.execute(_INSERT_LLM_CALL, row).inserted_primary_key
            if call.transcript is not None and key is not None:
                kept = codec.transcript_row(int(key[0]), call.run_id, call.transcript)
                conn.execute(_INSERT_TRANSCRIPT, kept)

    def programs_after(
        self, run_id: str, after_seq: int, islands: Iterable[int]
    ) -> tuple[int, list[ProgramRecord]]:
        """Programs of ``islands`` stored after ``after_seq`` (one indexed query), and the
        seq to pass next time."""
        query = (
            codec.program_select()
            .where(
                programs_table.c.run_id == run_id,
                programs_table.c.seq > after_seq,
                programs_table.c.island.in_(list(islands)),
            )
            .order_by(programs_table.c.seq)
        )
        with self._read() as conn:
            rows = conn.execute(query).all()
            records = _records(conn, rows)
        last = int(rows[-1].seq) if rows else after_seq
        return last, records

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
                records = _records(conn, rows)
            yield from records
            if len(rows) < PAGE_SIZE:
                return
            last_seq = rows[-1].seq

    def get_program(self, program_id: str) -> ProgramRecord:
        query = codec.program_select().where(programs_table.c.id == program_id)
        with self._read() as conn:
            row = conn.execute(query).first()
            records = _records(conn, [row] if row is not None else [])
        if not records:
            raise UserError(f"no program with id {program_id!r}", self.where)
        return records[0]

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
            records = _records(conn, [row] if row is not None else [])
        return records[0] if records else None

    def count_file_blobs(self) -> int:
        """Distinct file texts stored for folder programs, in all runs of this database
        (each is stored once however many programs hold it)."""
        with self._read() as conn:
            return files.count_blobs(conn)

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

    def llm_call(self, call_id: int) -> LLMCallRecord:
        """One call by its id (``LLMCallRecord.id``), without its transcript."""
        query = select(llm_calls_table).where(llm_calls_table.c.seq == call_id)
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise UserError(f"no LLM call with id {call_id}", self.where)
        return codec.llm_call_from_row(row)

    def transcript(self, call_id: int) -> Transcript | None:
        """The prompt and answer kept for a call; None when none was kept."""
        query = select(llm_transcripts_table.c.data).where(
            llm_transcripts_table.c.call_seq == call_id
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else codec.transcript_from_data(row.data)

    def transcript_ids(self, run_id: str) -> set[int]:
        """Ids of the run's calls that kept a transcript."""
        query = select(llm_transcripts_table.c.call_seq).where(
            llm_transcripts_table.c.run_id == run_id
        )
        with self._read() as conn:
            return {int(row.call_seq) for row in conn.execute(query)}

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

    def _increment(self, conn: Connection, run_id: str, delta: Mapping[str, float]) -> None:
        if not delta:
            return
        # "x = x + d" in one UPDATE: atomic on both backends, no read-modify-write.
        params: dict[str, object] = {f"d_{name}": delta.get(name, 0) for name in COUNTER_NAMES}
        params["counters_run_id"] = run_id
        result = conn.execute(_INCREMENT_COUNTERS, params)
        if result.rowcount == 0:
            raise UserError(f"no run with id {run_id!r}", self.where)


def _records(conn: Connection, rows: Sequence[Any]) -> list[ProgramRecord]:
    """Records of program rows, folder programs with their files (same snapshot)."""
    records = [codec.program_from_row(row) for row in rows]
    folders = files.folder_rows(rows)
    if folders:
        files.attach_files(conn, [records[i] for i in folders])
    return records


def _checked_delta(counters: Mapping[str, float]) -> dict[str, float]:
    unknown = sorted(set(counters) - set(COUNTER_NAMES))
    if unknown:
        raise ValueError(f"unknown counters {unknown} (known: {', '.join(COUNTER_NAMES)})")
    return {name: amount for name, amount in counters.items() if amount}


def _event_row(event: EventRecord) -> dict[str, Any]:
    return {
        "run_id": event.run_id,
        "kind": event.kind,
        "data": json_safe_dict(dict(event.data)),
        "created_at": float(event.created_at),
    }
