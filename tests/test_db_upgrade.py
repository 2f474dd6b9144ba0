"""Versioned schema: an older database is refused with advice, then upgraded in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select
from support_database import make_call, make_program
from support_postgres import postgres_url  # noqa: F401  (fixture)
from support_scale import fresh_postgres_database

from evolve.database import codec
from evolve.database.engine import normalize_url
from evolve.database.migrations import upgrade_database, upgrade_to
from evolve.database.models import (
    SCHEMA_VERSION,
    evaluations_table,
    llm_calls_table,
    meta_table,
    programs_table,
    run_counters_table,
    runs_table,
)
from evolve.database.records import RunCounters
from evolve.database.store import Store
from evolve.errors import UserError

REPO = Path(__file__).resolve().parent.parent


def build_version_1(url: str) -> tuple[str, list[str]]:
    """A database exactly as schema version 1 left it, with one run and three programs."""
    engine = create_engine(normalize_url(url))
    run_id = "r" * 32
    programs = [make_program(run_id, iteration=i, score=0.1 * i) for i in range(3)]
    try:
        with engine.begin() as conn:
            upgrade_to(conn, "0001")
            conn.execute(runs_table.insert().values(
                id=run_id, name="old", problem="p", config={"seed": 3}, seed=3, status="finished",
                created_at=1.0, updated_at=2.0))
            conn.execute(run_counters_table.insert().values(
                run_id=run_id, iterations=3, evaluations=3, valid=3, invalid=0, llm_calls=3,
                prompt_tokens=30, completion_tokens=15, usd=0.25))
            for program in programs:
                conn.execute(programs_table.insert(), codec.program_row(program))
                conn.execute(evaluations_table.insert(), codec.evaluation_row(program))
                conn.execute(llm_calls_table.insert(), codec.llm_call_row(make_call(run_id), program.id))
            version = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "schema_version"))
            assert version.scalar_one() == "1"
            assert "controllers" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()
    return run_id, [p.id for p in programs]


def check_upgrade(url: str, where: str) -> None:
    run_id, ids = build_version_1(url)
    with pytest.raises(UserError, match=r"older than this evolve's .*evolve db upgrade") as caught:
        Store(url)
    assert caught.value.where == where
    report = upgrade_database(url)
    assert (report.from_version, report.to_version) == (1, SCHEMA_VERSION)
    with Store.open_existing(url) as store:
        assert [p.id for p in store.programs(run_id)] == ids
        assert [p.score for p in store.programs(run_id)] == pytest.approx([0.0, 0.1, 0.2])
        assert store.get_run(run_id).config == {"seed": 3}
        assert store.counters(run_id) == RunCounters(3, 3, 3, 0, 3, 30, 15, 0.25)
        assert len(store.llm_calls(run_id)) == 3
        # the upgraded database takes new writes, including the version-2 table
        assert store.add_program(make_program(run_id, iteration=9), [make_call(run_id)])
        assert "controllers" in inspect(store.engine).get_table_names()
    again = upgrade_database(url)
    assert not again.changed and again.to_version == SCHEMA_VERSION


def test_sqlite_version_1_is_refused_then_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    check_upgrade(f"sqlite:///{path}", str(path))


def test_postgres_version_1_is_upgraded_in_place(postgres_url: str) -> None:  # noqa: F811
    url = fresh_postgres_database(postgres_url, "upgrade_test")
    check_upgrade(url, normalize_url(url).render_as_string(hide_password=True))


def test_cli_db_upgrade_on_a_run_folder(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    db = run_dir / "evolve.db"
    build_version_1(f"sqlite:///{db}")
    (run_dir / "run.json").write_text(
        f'{{"run_id": "{"r" * 32}", "database_url": "sqlite:///{db}", "problem_dir": "x"}}')
    cli = [sys.executable, "-m", "evolve.cli", "db", "upgrade"]
    proc = subprocess.run([*cli, str(run_dir)], check=False, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"schema version 1 -> {SCHEMA_VERSION}" in proc.stdout
    proc = subprocess.run([*cli, str(db)], check=False, capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and "up to date" in proc.stdout
    proc = subprocess.run([*cli, str(tmp_path / "missing.db")], check=False, capture_output=True, text=True,
                          cwd=REPO, timeout=120)
    assert proc.returncode == 2 and "database file not found" in proc.stderr


def test_a_fresh_database_matches_the_migrated_schema(tmp_path: Path) -> None:
    """create_all (new databases) and the migrations (old ones) give the same tables."""
    fresh, migrated = tmp_path / "fresh.db", tmp_path / "migrated.db"
    Store(fresh).close()
    build_version_1(f"sqlite:///{migrated}")
    upgrade_database(migrated)
    shapes = []
    for path in (fresh, migrated):
        engine = create_engine(f"sqlite:///{path}")
        inspector = inspect(engine)
        shapes.append({
            table: sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table))
            for table in inspector.get_table_names() if table != "alembic_version"
        })
        engine.dispose()
    assert shapes[0] == shapes[1]
