"""PostgreSQL-only Store checks (skipped when PostgreSQL is not installed); the common
store rules run on PostgreSQL too, in test_store_conformance.py."""

from __future__ import annotations

import multiprocessing

import pytest
from support_postgres import postgres_url  # noqa: F401  (fixture)

from evolve.database.store import Store
from evolve.errors import UserError


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
