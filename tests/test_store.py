"""Store: roundtrips, one transaction per program, idempotent retries, refusal of
foreign files, and several processes writing one SQLite file."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from support_database import ledger_entry, make_call, make_program

from evolve.database import store as store_module
from evolve.database.ledger import Attempt, Outcome
from evolve.database.models import SCHEMA_VERSION
from evolve.database.records import EventRecord, ProgramRecord, RunCounters
from evolve.database.store import Store
from evolve.errors import UserError


@pytest.fixture
def store(tmp_path: Path):
    with Store(f"sqlite:///{tmp_path / 'evolve.db'}") as opened:
        yield opened


def test_program_roundtrip_keeps_every_field(store: Store) -> None:
    run_id = store.create_run("demo", "eplb", {"database": {"num_islands": 2}}, seed=7)
    program = make_program(
        run_id,
        code="def f():\n    return 42\n",
        parent_id="abc",
        island=1,
        generation=3,
        iteration=12,
        score=0.75,
        metrics={"speedup": 1.5, "nested": {"a": [1, 2]}},
        instances={"w1": 0.5, "w2": 1.0},
        holdout={"h1": 0.25},
        artifacts={"feedback": "too slow on w1"},
        reason="",
        features={"complexity": 22.0, "diversity": 0.3},
        model="gpt-test",
        changed_lines=4,
        eval_s=1.25,
    )
    assert store.add_program(program, [make_call(run_id)]) is True
    loaded = store.get_program(program.id)
    assert loaded == program
    assert list(store.programs(run_id)) == [program]
    run = store.get_run(run_id)
    assert (run.name, run.problem, run.seed, run.status) == ("demo", "eplb", 7, "running")
    assert run.config == {"database": {"num_islands": 2}}
    store.set_run_status(run_id, "finished")
    assert store.get_run(run_id).status == "finished"
    assert [r.id for r in store.runs()] == [run_id]
    calls = store.llm_calls(run_id)
    assert len(calls) == 1 and calls[0].program_id == program.id


def test_reopening_the_file_sees_everything(tmp_path: Path) -> None:
    path = tmp_path / "evolve.db"
    with Store(path) as first:  # a plain path means SQLite
        run_id = first.create_run("r", "p", {}, 0)
        first.add_program(make_program(run_id, score=2.0))
        first.add_event(run_id, "migration", {"copies": 3})
    with Store.open_existing(f"sqlite:///{path}") as second:
        assert second.count_programs(run_id) == 1
        events = second.events(run_id)
        assert [(e.kind, e.data) for e in events] == [("migration", {"copies": 3})]
        assert isinstance(events[0], EventRecord)


def test_counters_are_what_the_ledger_entries_decide(store: Store) -> None:
    run_id = store.create_run("r", "p", {}, 0)
    store.commit(ledger_entry(make_program(run_id, origin="initial")))
    store.commit(ledger_entry(make_program(run_id), [make_call(run_id, tokens=100, cost=0.5)]))
    store.commit(ledger_entry(
        make_program(run_id, valid=False, score=None, reason="crashed"),
        [make_call(run_id, tokens=10, cost=0.25), make_call(run_id, tokens=20, cost=0.25)],
    ))  # fmt: skip
    store.commit(ledger_entry(make_program(run_id, origin="migration", island=1)))
    failed = make_call(run_id, tokens=40, cost=0.125, ok=False, error="timeout")
    store.commit(Attempt(run_id, 4, Outcome.SIDE_CALL, calls=[failed]))
    store.add_counters(run_id, {"iterations": 1})
    assert store.counters(run_id) == RunCounters(
        iterations=3,  # two llm children + the one counted on its own
        evaluations=3,  # the migration copy was not evaluated again
        valid=2,
        invalid=1,
        llm_calls=4,
        prompt_tokens=170,
        completion_tokens=85,
        usd=1.125,
    )


def test_the_store_adds_the_counters_it_is_given_and_decides_none(store: Store) -> None:
    run_id = store.create_run("r", "p", {}, 0)
    store.add_program(make_program(run_id), [make_call(run_id)], counters={"evaluations": 2})
    counters = store.counters(run_id)
    assert (counters.evaluations, counters.llm_calls, counters.iterations) == (2, 0, 0)
    store.add_program(make_program(run_id), [make_call(run_id)])
    assert store.counters(run_id) == counters
    with pytest.raises(ValueError, match="unknown counters"):
        store.add_program(make_program(run_id), counters={"evals": 1})


def test_adding_the_same_program_twice_is_a_no_op(store: Store) -> None:
    run_id = store.create_run("r", "p", {}, 0)
    program = make_program(run_id)
    assert store.add_program(program, [make_call(run_id)]) is True
    before = store.counters(run_id)
    assert store.add_program(program, [make_call(run_id)]) is False
    assert store.counters(run_id) == before
    assert store.count_programs(run_id) == 1
    assert len(store.llm_calls(run_id)) == 1


def test_a_failed_write_leaves_nothing_of_the_program(store: Store) -> None:
    """The llm_calls insert fails (NOT NULL model); program, evaluation and counters roll back."""
    run_id = store.create_run("r", "p", {}, 0)
    program = make_program(run_id)
    broken_call = make_call(run_id, model=None)
    with pytest.raises(IntegrityError):
        store.add_program(program, [make_call(run_id), broken_call])
    assert store.count_programs(run_id) == 0
    assert store.llm_calls(run_id) == []
    assert store.counters(run_id) == RunCounters()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM evaluations").scalar_one() == 0
    # the retry a resumed controller makes is then counted exactly once
    assert store.commit(ledger_entry(program, [make_call(run_id)])) is True
    assert store.counters(run_id).evaluations == 1
    assert store.counters(run_id).llm_calls == 1


def test_non_finite_numbers_are_stored_safely(store: Store) -> None:
    run_id = store.create_run("r", "p", {"limit": float("inf")}, 0)
    program = make_program(
        run_id,
        valid=False,
        score=float("nan"),
        metrics={"latency": float("inf"), "ratio": float("nan"), "ok": 1.0, "low": -math.inf},
        instances={"w": float("nan")},
        features={"complexity": 10.0},
    )
    store.add_program(program)
    loaded = store.get_program(program.id)
    assert loaded.score is None
    assert loaded.metrics == {"latency": "inf", "ratio": "nan", "ok": 1.0, "low": "-inf"}
    assert math.isinf(float(loaded.metrics["latency"]))
    assert loaded.instances == {"w": "nan"}
    assert store.get_run(run_id).config == {"limit": "inf"}


def test_best_program_and_counts(store: Store) -> None:
    run_id = store.create_run("r", "p", {}, 0)
    other_run = store.create_run("other", "p", {}, 0)
    assert store.best_program(run_id) is None
    store.add_program(make_program(run_id, score=1.0))
    winner = make_program(run_id, score=3.0)
    store.add_program(winner)
    store.add_program(make_program(run_id, score=3.0))  # a later tie does not win
    store.add_program(make_program(run_id, valid=False, score=None))
    store.add_program(make_program(other_run, score=99.0))
    best = store.best_program(run_id)
    assert best is not None and best.id == winner.id
    assert store.count_programs(run_id) == 4
    assert store.count_programs(run_id, valid=True) == 3
    assert store.count_programs(run_id, valid=False) == 1


def test_programs_iterate_in_insertion_order_across_pages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "PAGE_SIZE", 7)
    run_id = store.create_run("r", "p", {}, 0)
    added = [make_program(run_id, score=float(i % 5), island=i % 3) for i in range(30)]
    for program in added:
        store.add_program(program)
    assert [p.id for p in store.programs(run_id)] == [p.id for p in added]
    assert [p.id for p in store.programs(run_id, island=2)] == [p.id for p in added[2::3]]


def test_unknown_ids_are_user_errors(store: Store) -> None:
    with pytest.raises(UserError, match="no run"):
        store.get_run("nope")
    with pytest.raises(UserError, match="no program"):
        store.get_program("nope")
    with pytest.raises(UserError, match="no run"):
        store.set_run_status("nope", "finished")


# ---------------------------------------------------------------- foreign files


def test_a_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some notes\n")
    with pytest.raises(UserError, match="not an evolve database") as caught:
        Store(path)
    assert caught.value.where == str(path)
    assert path.read_text() == "just some notes\n"  # and it was left alone


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(UserError, match=r"not an evolve database \(has tables customers"):
        Store(path)
    with pytest.raises(UserError, match="not an evolve database"):
        Store.open_existing(path)


def test_a_corrupted_evolve_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evolve.db"
    with Store(path) as store:
        run_id = store.create_run("r", "p", {}, 0)
        store.add_program(make_program(run_id))
    raw = bytearray(path.read_bytes())
    raw[100:] = b"\x5a" * (len(raw) - 100)  # keep the header, destroy every page
    path.write_bytes(bytes(raw))
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with pytest.raises(UserError, match="not an evolve database") as caught:
        Store.open_existing(path)
    assert caught.value.where == str(path)


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evolve.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE evolve_meta SET value = ? WHERE key = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(UserError, match="newer evolve"):
        Store(path)


def test_open_existing_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        Store.open_existing(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


# ---------------------------------------------------------------- several writers

PROGRAMS_PER_WRITER = 40


def _writer(path: str, run_id: str, worker: int, barrier) -> None:  # type: ignore[no-untyped-def]
    store = Store(path)
    barrier.wait()
    for i in range(PROGRAMS_PER_WRITER):
        program = make_program(run_id, iteration=i, island=worker, score=float(i))
        store.commit(ledger_entry(program, [make_call(run_id, tokens=10, cost=0.5)]))
        if i % 4 == 0:
            failed = make_call(run_id, tokens=1, cost=0.25, ok=False, error="rate_limit")
            store.commit(Attempt(run_id, i, Outcome.SIDE_CALL, calls=[failed]))
    store.close()


def test_two_processes_writing_one_sqlite_file_lose_no_updates(tmp_path: Path) -> None:
    path = str(tmp_path / "evolve.db")
    with Store(path) as store:
        run_id = store.create_run("r", "p", {}, 0)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_writer, args=(path, run_id, worker, barrier)) for worker in (0, 1)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [process.exitcode for process in workers] == [0, 0]
    failed_calls = len(range(0, PROGRAMS_PER_WRITER, 4))
    with Store.open_existing(path) as store:
        counters = store.counters(run_id)
        assert counters.evaluations == 2 * PROGRAMS_PER_WRITER
        assert counters.iterations == 2 * PROGRAMS_PER_WRITER
        assert counters.llm_calls == 2 * (PROGRAMS_PER_WRITER + failed_calls)
        assert counters.prompt_tokens == 2 * (10 * PROGRAMS_PER_WRITER + failed_calls)
        assert counters.usd == pytest.approx(2 * (0.5 * PROGRAMS_PER_WRITER + 0.25 * failed_calls))
        assert store.count_programs(run_id) == 2 * PROGRAMS_PER_WRITER
        assert len(store.llm_calls(run_id)) == counters.llm_calls


def test_a_program_record_rejects_an_unknown_origin() -> None:
    with pytest.raises(ValueError, match="origin"):
        ProgramRecord(id="x", run_id="r", code="", origin="mutation")
