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

from evolve.codebase import combined_text
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
from evolve.database.records import RunCounters, Transcript
from evolve.database.store import Store
from evolve.errors import UserError

REPO = Path(__file__).resolve().parent.parent
VERSION_3_CALL_COLUMNS = ("outcome", "finish_reason")  # added by 0003


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
            # programs rows as version 1 had them (later migrations add columns)
            version_1_columns = {c["name"] for c in inspect(conn).get_columns("programs")}
            for program in programs:
                row = {k: v for k, v in codec.program_row(program).items() if k in version_1_columns}
                conn.execute(programs_table.insert(), row)
                conn.execute(evaluations_table.insert(), codec.evaluation_row(program))
                row = codec.llm_call_row(make_call(run_id), program.id)
                for column in VERSION_3_CALL_COLUMNS:
                    del row[column]
                conn.execute(llm_calls_table.insert(), row)
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
        assert {c.outcome for c in store.llm_calls(run_id)} == {""}  # stored before outcomes
        # the upgraded database takes new writes, including the version-2 and -3 tables
        kept = Transcript([{"role": "user", "content": "q"}], "answer")
        call = make_call(run_id)
        call.outcome, call.transcript = "candidate", kept
        assert store.add_program(make_program(run_id, iteration=9), [call])
        assert "controllers" in inspect(store.engine).get_table_names()
        new_call = store.llm_calls(run_id)[-1]
        assert new_call.outcome == "candidate" and new_call.id is not None
        assert store.transcript(new_call.id) == kept
        # version 4: folder programs' files; programs stored before stay single files
        assert all(p.files == {} and p.code for p in store.programs(run_id) if p.id in ids)
        folder = make_program(run_id, iteration=11)
        folder.files = {"a.py": "# EVOLVE-BLOCK-START\nx = 1\n# EVOLVE-BLOCK-END\n", "b.c": "int b;\n"}
        folder.code = combined_text(folder.files)
        assert store.add_program(folder)
        assert store.get_program(folder.id).files == folder.files and store.count_file_blobs() == 2
        # version 5: programs.metadata, {} for programs stored before
        assert all(p.metadata == {} for p in store.programs(run_id) if p.id in ids)
        trial = make_program(run_id, iteration=10)
        trial.metadata = {"tune": {"params": {"x": 0.5}}}
        assert store.add_program(trial)
        assert store.get_program(trial.id).metadata == trial.metadata
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
