"""Conformance suite for the store: every database backend runs the same tests.

    import pytest
    from evolve.testing.store_kit import StoreConformance

    class TestMyDatabase(StoreConformance):
        @pytest.fixture(autouse=True)
        def _database(self, tmp_path):
            self.url = "mydb://..."      # a database the tests may write runs into

Each test makes its own run, so one database may serve the whole class. A failed check
raises ``AssertionError`` saying which rule broke.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from evolve.database.ledger import Attempt, Outcome
from evolve.database.models import llm_transcripts_table
from evolve.database.records import COUNTER_NAMES, RunCounters, Transcript, new_id
from evolve.database.store import Store
from evolve.testing.store_files_kit import FolderProgramRules
from evolve.testing.store_writers import call, program, two_writers

WRITES_PER_PROCESS = 25


def _write_entries(url: str, run_id: str, barrier: Any) -> None:
    with Store(url) as store:
        barrier.wait()
        for i in range(WRITES_PER_PROCESS):
            child = program(run_id, iteration=i, score=float(i))
            store.commit(Attempt(run_id, i, Outcome.EVALUATED, [child], [call(run_id, tokens=2)]))


class StoreConformance(FolderProgramRules):
    """The rules every store backend keeps; set ``self.url`` in an autouse fixture
    (folder programs' rules: ``evolve.testing.store_files_kit``)."""

    url: str

    def store(self) -> Store:
        return Store(self.url)

    def test_program_roundtrip_keeps_every_field(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {"database": {"num_islands": 2}}, seed=7)
            stored = program(
                run_id,
                parent_id=new_id(),
                island=1,
                generation=3,
                iteration=9,
                score=2.5,
                metrics={"latency": 3.0},
                instances={"w0": 0.5},
                holdout={"h": 0.25},
                artifacts={"feedback": "slow on w1"},
                reason="",
                features={"complexity": 22.0},
                model="m",
                changed_lines=4,
                eval_s=1.25,
            )
            assert store.commit(Attempt(run_id, 9, Outcome.EVALUATED, [stored], [call(run_id)]))
            assert store.get_program(stored.id) == stored, "a program must read back unchanged"
            assert list(store.programs(run_id)) == [stored]
            run = store.get_run(run_id)
            assert (run.name, run.problem, run.seed, run.status) == ("kit", "p", 7, "running")
            assert run.config == {"database": {"num_islands": 2}}
            store.set_run_status(run_id, "finished")
            assert store.get_run(run_id).status == "finished"
            assert run_id in [r.id for r in store.runs()]
            calls = store.llm_calls(run_id)
            assert len(calls) == 1 and calls[0].program_id == stored.id, (
                "an entry's calls belong to its program"
            )

    def test_commit_adds_exactly_the_entry_counters(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            entries = [
                Attempt(run_id, 0, Outcome.SEEDED, [program(run_id, origin="initial")]),
                Attempt(run_id, 1, Outcome.EVALUATED, [program(run_id)], [call(run_id, 100, 0.5)]),
                Attempt(
                    run_id,
                    2,
                    Outcome.REJECTED,
                    [program(run_id, valid=False, score=None)],
                    [call(run_id, 10, 0.25)],
                ),
                Attempt(run_id, 3, Outcome.EDIT_FAILED, calls=[call(run_id, 20, 0.25)]),
                Attempt(run_id, 4, Outcome.COPIED, [program(run_id, origin="migration")]),
                Attempt(run_id, 4, Outcome.SIDE_CALL, calls=[call(run_id, 40, 0.125, ok=False)]),
            ]
            expected: dict[str, float] = {}
            for entry in entries:
                assert store.commit(entry)
                for name, amount in entry.counters().items():
                    expected[name] = expected.get(name, 0) + amount
            counters = store.counters(run_id)
            for name in COUNTER_NAMES:
                assert math.isclose(getattr(counters, name), expected.get(name, 0)), (
                    f"counter {name} must be the sum of the entries' counters()"
                )
            assert (counters.iterations, counters.evaluations, counters.invalid) == (3, 2, 1)

    def test_a_program_already_stored_makes_the_commit_a_no_op(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            child = program(run_id)
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [child], [call(run_id)]))
            before = store.counters(run_id)
            again = Attempt(run_id, 1, Outcome.EVALUATED, [child], [call(run_id)])
            again.event("note", {"x": 1})
            assert store.commit(again) is False, "a retried write must report it was stored"
            assert store.counters(run_id) == before, "a retried write must not count twice"
            assert len(store.llm_calls(run_id)) == 1 and store.events(run_id) == []

    def test_a_failed_write_leaves_nothing_of_the_entry(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            child = program(run_id)
            broken = Attempt(
                run_id, 1, Outcome.EVALUATED, [child], [call(run_id), call(run_id, model=None)]
            )
            broken.event("note", {"x": 1})
            try:
                store.commit(broken)
            except IntegrityError:
                pass
            else:
                raise AssertionError("a call without a model must be refused")
            assert store.count_programs(run_id) == 0 and store.llm_calls(run_id) == []
            assert store.events(run_id) == [] and store.counters(run_id) == RunCounters()
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [child], [call(run_id)]))
            assert store.counters(run_id).evaluations == 1

    def test_events_come_back_in_order_by_kind(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            entry = Attempt(run_id, 1, Outcome.EDIT_FAILED, calls=[call(run_id)])
            entry.event("edit_failed", {"iteration": 1, "error": "no match"})
            store.commit(entry)
            store.add_event(run_id, "migration", {"copies": 3})
            assert [(e.kind, e.data) for e in store.events(run_id)] == [
                ("edit_failed", {"iteration": 1, "error": "no match"}),
                ("migration", {"copies": 3}),
            ]
            assert [e.kind for e in store.events(run_id, "migration")] == ["migration"]

    def test_programs_read_back_in_insertion_order(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            written = [program(run_id, island=i % 3, iteration=i) for i in range(12)]
            for child in written:
                store.commit(Attempt(run_id, child.iteration, Outcome.EVALUATED, [child]))
            assert [p.id for p in store.programs(run_id)] == [p.id for p in written]
            assert [p.id for p in store.programs(run_id, island=1)] == [
                p.id for p in written if p.island == 1
            ]
            seq, first = store.programs_after(run_id, 0, [0, 2])
            assert [p.id for p in first] == [p.id for p in written if p.island in (0, 2)]
            late = program(run_id, island=2, iteration=12)
            store.commit(Attempt(run_id, 12, Outcome.EVALUATED, [late]))
            assert store.programs_after(run_id, seq, [0, 2])[1] == [late], (
                "programs_after returns only rows stored since the seq it handed out"
            )

    def test_best_program_is_the_earliest_of_the_highest(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            other = store.create_run("kit-other", "p", {}, 0)
            winner = program(run_id, score=3.0)
            for child in (
                program(run_id, score=1.0),
                winner,
                program(run_id, score=3.0),
                program(run_id, valid=False, score=None),
                program(other, score=99.0),
            ):
                store.commit(Attempt(child.run_id, 1, Outcome.EVALUATED, [child]))
            best = store.best_program(run_id)
            assert best is not None and best.id == winner.id

    def test_non_finite_numbers_are_stored_safely(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {"limit": float("inf")}, 0)
            odd = program(
                run_id, valid=False, score=float("nan"), metrics={"latency": float("inf"), "x": 1.0}
            )
            store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [odd]))
            loaded = store.get_program(odd.id)
            assert loaded.score is None
            assert math.isinf(float(loaded.metrics["latency"])) and loaded.metrics["x"] == 1.0

    def test_two_processes_committing_at_once_lose_no_updates(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit-concurrent", "p", {}, 0)
        assert two_writers(_write_entries, self.url, run_id) == [0, 0], "a writer failed"
        with self.store() as store:
            counters = store.counters(run_id)
            total = 2 * WRITES_PER_PROCESS
            assert (
                counters.iterations,
                counters.evaluations,
                counters.llm_calls,
                counters.prompt_tokens,
            ) == (total, total, total, 2 * total)
            assert store.count_programs(run_id) == total

    def test_transcripts_are_kept_compressed_and_linked_to_their_call(self) -> None:
        prompt = [{"role": "system", "content": "You edit programs."},
                  {"role": "user", "content": "Improve this:\n" + "x = 1\n" * 400}]
        kept = Transcript(prompt, "<think>hmm</think>\n<<<<<<< SEARCH", reasoning="because")
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            child = program(run_id)
            cut = call(run_id, outcome="continued", finish_reason="length", transcript=kept)
            done = call(run_id, outcome="candidate", finish_reason="stop")
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [child], [cut, done]))
            failed = call(run_id, ok=False, error="server: HTTP 502", outcome="llm_failed:server",
                          transcript=Transcript(prompt, ""))
            assert store.commit(Attempt(run_id, 2, Outcome.LLM_FAILED, calls=[failed]))
            calls = store.llm_calls(run_id)
            assert [c.outcome for c in calls] == ["continued", "candidate", "llm_failed:server"]
            assert [c.finish_reason for c in calls] == ["length", "stop", ""]
            assert all(c.id is not None and c.transcript is None for c in calls), (
                "calls come back with their id and without their transcript"
            )
            ids = [c.id for c in calls if c.id is not None]
            assert len(set(ids)) == 3
            assert store.transcript(ids[0]) == kept, "a transcript must read back unchanged"
            assert store.transcript(ids[1]) is None, "a call without one has no transcript"
            transcript = store.transcript(ids[2])
            assert transcript is not None and transcript.messages == prompt
            assert store.llm_call(ids[2]).error == "server: HTTP 502"
            assert store.transcript_ids(run_id) == {ids[0], ids[2]}
            with store.engine.connect() as conn:
                blobs = [bytes(row.data) for row in conn.execute(select(llm_transcripts_table))
                         if row.run_id == run_id]
            assert blobs and all(b"x = 1" not in blob for blob in blobs), "stored compressed"
            assert all(len(blob) < 2000 for blob in blobs)

    def test_a_refused_entry_keeps_no_transcript(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            child = program(run_id)
            text = Transcript([{"role": "user", "content": "q"}], "a")
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [child],
                                        [call(run_id, transcript=text)]))
            again = Attempt(run_id, 1, Outcome.EVALUATED, [child], [call(run_id, transcript=text)])
            assert store.commit(again) is False
            assert len(store.transcript_ids(run_id)) == 1, "a retried write keeps no second copy"
            long = call(run_id, outcome="candidate:" + "+".join(["whole_program"] * 9),
                        finish_reason="x" * 80)
            assert store.commit(Attempt(run_id, 2, Outcome.EDIT_FAILED, calls=[long]))
            stored = store.llm_calls(run_id)[-1]
            assert len(stored.outcome) == 64 and len(stored.finish_reason) == 32, (
                "over-long outcomes are cut to the column, never refused"
            )
