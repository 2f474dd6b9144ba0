"""The store's rules for folder programs (part of ``StoreConformance`` in store_kit).

A folder program's files read back exactly (through every read method), and each
distinct file text is stored once, however many programs (of any run) hold it.
"""

from __future__ import annotations

from typing import Any

from evolve.codebase import combined_text
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord, new_id
from evolve.database.store import Store
from evolve.testing.store_writers import program, two_writers

FOLDER_WRITES = 10


def folder_program(run_id: str, files: dict[str, str], **fields: Any) -> ProgramRecord:
    return program(run_id, **{"code": combined_text(files), "files": dict(files), **fields})


def _files(tag: str) -> dict[str, str]:
    """Three files whose texts no other test stores (``tag`` is unique per test)."""
    return {
        "main.py": f"# {tag}\n# EVOLVE-BLOCK-START\nx = 1\n# EVOLVE-BLOCK-END\n",
        "src/fill.c": f"/* {tag} */\n// EVOLVE-BLOCK-START\nint k = 2;\n// EVOLVE-BLOCK-END\n",
        "fill.h": f"/* {tag} */\nint fill(int n);\n",
    }


def _write_shared_files(url: str, run_id: str, tag: str, barrier: Any) -> None:
    with Store(url) as store:
        barrier.wait()
        for i in range(FOLDER_WRITES):
            files = {**_files(tag), "main.py": f"# {tag}\n# EVOLVE-BLOCK-START\nx = {i}\n"
                     "# EVOLVE-BLOCK-END\n"}
            store.commit(Attempt(run_id, i, Outcome.EVALUATED, [folder_program(run_id, files)]))


class FolderProgramRules:
    """Mixed into StoreConformance: ``store()`` opens the backend under test."""

    url: str

    def store(self) -> Store:
        raise NotImplementedError

    def test_folder_programs_read_back_with_their_files(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            files = _files(run_id)
            folder = folder_program(run_id, files, island=1, score=3.0)
            single = ProgramRecord(id=new_id(), run_id=run_id, code="x = 1\n", valid=True,
                                   score=0.5)
            assert store.commit(Attempt(run_id, 0, Outcome.SEEDED, [folder, single]))
            assert store.get_program(folder.id) == folder, "a folder program reads back unchanged"
            assert store.get_program(folder.id).code == combined_text(files)
            assert store.get_program(single.id).files == {}, "a single file stays one"
            assert list(store.programs(run_id)) == [folder, single]
            assert list(store.programs(run_id, island=1)) == [folder]
            assert store.best_program(run_id) == folder
            assert store.programs_after(run_id, 0, [1])[1] == [folder]

    def test_unchanged_files_are_stored_once(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            other_run = store.create_run("kit", "p", {}, 0)
            before = store.count_file_blobs()
            parent = folder_program(run_id, _files(run_id), origin="initial")
            changed = {**parent.files, "src/fill.c": parent.files["src/fill.c"] + "int j;\n"}
            child = folder_program(run_id, changed, parent_id=parent.id)
            copy = folder_program(run_id, changed, parent_id=child.id, origin="migration")
            elsewhere = folder_program(other_run, parent.files, origin="initial")
            for number, entry in enumerate((parent, child, copy, elsewhere)):
                store.commit(Attempt(entry.run_id, number, Outcome.EVALUATED, [entry]))
            assert store.count_file_blobs() - before == 4, (
                "3 files, then one changed file: every other text is stored once"
            )
            assert store.get_program(copy.id).files == changed
            assert store.get_program(elsewhere.id).files == parent.files

    def test_a_refused_entry_stores_no_files(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit", "p", {}, 0)
            first = folder_program(run_id, _files(run_id))
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [first]))
            before = store.count_file_blobs()
            again = folder_program(run_id, {"other.py": f"# {run_id} never stored\n"},
                                   id=first.id)
            assert store.commit(Attempt(run_id, 1, Outcome.EVALUATED, [again])) is False
            assert store.count_file_blobs() == before
            assert store.get_program(first.id).files == first.files

    def test_two_processes_storing_the_same_files_at_once(self) -> None:
        with self.store() as store:
            run_id = store.create_run("kit-files", "p", {}, 0)
            before = store.count_file_blobs()
        writers = two_writers(_write_shared_files, self.url, run_id, run_id)
        assert writers == [0, 0], "a writer failed"
        with self.store() as store:
            assert store.count_programs(run_id) == 2 * FOLDER_WRITES
            assert store.count_file_blobs() - before == 2 + FOLDER_WRITES, (
                "two shared files and one main.py per iteration, each stored once"
            )
