"""The same Store code against PostgreSQL (skipped when PostgreSQL is not installed)."""

from __future__ import annotations

import math
import multiprocessing

import pytest
from sqlalchemy.exc import IntegrityError
from support_database import make_call, make_program
from support_postgres import postgres_url  # noqa: F401  (fixture)

from evolve.database.records import RunCounters
from evolve.database.store import Store
from evolve.errors import UserError


def test_roundtrip_counters_and_idempotency_on_postgres(postgres_url: str) -> None:  # noqa: F811
    with Store(postgres_url) as store:
        run_id = store.create_run("pg", "eplb", {"seed": 1}, seed=1)
        program = make_program(
            run_id,
            metrics={"latency": float("inf"), "x": 1.0},
            features={"complexity": 12.0},
            artifacts={"feedback": "ok"},
        )
        assert store.add_program(program, [make_call(run_id, tokens=30, cost=0.5)]) is True
        assert store.add_program(program, [make_call(run_id)]) is False
        loaded = store.get_program(program.id)
        assert loaded.metrics == {"latency": "inf", "x": 1.0}
        assert math.isinf(float(loaded.metrics["latency"]))
        assert loaded.code == program.code and loaded.features == program.features
        assert store.counters(run_id) == RunCounters(
            iterations=1, evaluations=1, valid=1, llm_calls=1, prompt_tokens=30,
            completion_tokens=15, usd=0.5,
        )  # fmt: skip
        with pytest.raises(IntegrityError):
            store.add_program(make_program(run_id), [make_call(run_id, model=None)])
        assert store.count_programs(run_id) == 1
        assert store.best_program(run_id) == loaded
    # a second Store on the same database sees the existing schema and data
    with Store.open_existing(postgres_url) as again:
        assert again.count_programs(run_id) == 1


def _pg_writer(url: str, run_id: str, barrier) -> None:  # type: ignore[no-untyped-def]
    store = Store(url)
    barrier.wait()
    for i in range(25):
        store.add_program(make_program(run_id, iteration=i), [make_call(run_id, tokens=2)])
    store.close()


def test_two_processes_on_postgres_lose_no_updates(postgres_url: str) -> None:  # noqa: F811
    with Store(postgres_url) as store:
        run_id = store.create_run("pg-concurrent", "p", {}, 0)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_pg_writer, args=(postgres_url, run_id, barrier)) for _ in "ab"
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    with Store(postgres_url) as store:
        counters = store.counters(run_id)
        assert (counters.evaluations, counters.llm_calls, counters.prompt_tokens) == (50, 50, 100)


def test_a_postgres_database_with_foreign_tables_is_refused(postgres_url: str) -> None:  # noqa: F811
    from sqlalchemy import create_engine, text

    foreign_url = postgres_url.rsplit("/", 1)[0] + "/foreign_db"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS foreign_db"))
        conn.execute(text("CREATE DATABASE foreign_db"))
    admin.dispose()
    engine = create_engine(foreign_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id integer primary key)"))
    engine.dispose()
    with pytest.raises(UserError, match="not an evolve database"):
        Store(foreign_url)


def _open_store(url: str, barrier) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    Store(url).close()


def test_two_processes_creating_one_new_postgres_database(postgres_url: str) -> None:  # noqa: F811
    from sqlalchemy import create_engine, text

    fresh_url = postgres_url.rsplit("/", 1)[0] + "/fresh_db"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS fresh_db"))
        conn.execute(text("CREATE DATABASE fresh_db"))
    admin.dispose()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    workers = [context.Process(target=_open_store, args=(fresh_url, barrier)) for _ in "abc"]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0, 0]
    with Store.open_existing(fresh_url) as store:
        assert store.runs() == []
