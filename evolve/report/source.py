"""Finding and opening finished (or running) runs for browsing.

Browsing reads only ``run.json`` and the database: it does not load the problem folder,
so a report still works after the problem moved or on another machine. It opens only
the database inside the run folder (or one the user named with ``--database``), never
writes to it, and gives up on a locked one after about a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from evolve.database.records import ProgramRecord, RunRecord
from evolve.database.store import Store
from evolve.errors import UserError
from evolve.run_folder import RUN_FILE, database_url, read_run_file
from evolve.runs import resolve_run_dir
from evolve.safe_text import line

DEFAULT_RUNS_ROOT = Path("runs")


@dataclass
class RunHandle:
    """An opened run: its folder, its id and the store that holds it."""

    run_dir: Path
    run_id: str
    store: Store
    record: RunRecord
    problem_dir: str

    @property
    def name(self) -> str:
        """The run's name, cleaned and capped for display."""
        return line(self.record.name or self.run_dir.name)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _locate(run: str | Path) -> Path:
    """A run folder from a path, or from a bare name under the default ``runs/``."""
    path = Path(run)
    under_runs = DEFAULT_RUNS_ROOT / path
    if not path.exists() and not path.is_absolute() and (under_runs / RUN_FILE).is_file():
        return under_runs
    if not path.exists():
        raise UserError("no such run folder", str(run))
    return resolve_run_dir(path)


def load_run(run: str | Path, database: str | None = None) -> RunHandle:
    """Open a run folder (or its run.json / evolve.db) for reading; UserError when it is
    not one. ``database``: a URL the user passed, for a database outside the folder."""
    run_dir = _locate(run)
    meta = read_run_file(run_dir)
    run_id = meta["run_id"]
    store = Store.open_for_reading(database_url(run_dir, meta, database))
    try:
        record = store.get_run(run_id)
    except BaseException:
        store.close()
        raise
    return RunHandle(run_dir, run_id, store, record, str(meta.get("problem_dir", "")))


def find_run_dirs(root: str | Path) -> list[Path]:
    """Every folder below ``root`` holding a run.json, sorted by path."""
    base = Path(root)
    if not base.is_dir():
        raise UserError("no such folder", str(root))
    found: list[Path] = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if RUN_FILE in files:
            found.append(Path(folder))
            dirs[:] = []  # a run folder does not nest other runs
    return sorted(found)


def iter_runs(root: str | Path, warn: list[str],
              database: str | None = None) -> Iterator[RunHandle]:
    """Open each run below ``root``; runs that cannot be opened add a one-line warning.

    Handles are yielded one at a time and closed by the caller (many runs, few engines).
    """
    for run_dir in find_run_dirs(root):
        try:
            handle = load_run(run_dir, database)
        except Exception as exc:  # noqa: BLE001 - one bad run never hides the others
            warn.append(skipped(run_dir, exc))
            continue
        yield handle


def skipped(run_dir: Path, exc: BaseException) -> str:
    """The one-line warning for a run that cannot be shown (safe to print anywhere)."""
    if isinstance(exc, UserError):
        reason = exc.message
    else:
        reason = f"cannot read it ({type(exc).__name__}: {exc})"
    return line(f"skipped {run_dir}: {reason}", 500)


def resolve_program(handle: RunHandle, ref: str) -> ProgramRecord:
    """A program of the run by full id, unique id prefix, or ``best``."""
    text = ref.strip()
    if text.lower() == "best":
        best = handle.store.best_program(handle.run_id)
        if best is None:
            raise UserError("this run has no valid program yet", str(handle.run_dir))
        return best
    if not text:
        raise UserError("empty program id", str(handle.run_dir))
    matches = [pid for pid in program_ids(handle) if pid.startswith(text.lower())]
    if not matches:
        raise UserError(f"no program with id {ref!r} in this run", str(handle.run_dir))
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches[:5])
        raise UserError(f"program id prefix {ref!r} is ambiguous "
                        f"({len(matches)} matches: {shown}...)", str(handle.run_dir))
    return handle.store.get_program(matches[0])


def program_ids(handle: RunHandle) -> list[str]:
    return [p.id for p in handle.store.programs(handle.run_id)]


def lineage(handle: RunHandle, program: ProgramRecord, limit: int = 10_000) -> list[ProgramRecord]:
    """The ancestors of ``program`` and the program itself, root first."""
    chain = [program]
    seen = {program.id}
    while chain[-1].parent_id and len(chain) < limit:
        parent_id = chain[-1].parent_id
        if parent_id in seen:
            break  # a cycle would be a database fault; never loop on it
        try:
            parent = handle.store.get_program(parent_id)
        except UserError:
            break
        seen.add(parent.id)
        chain.append(parent)
    chain.reverse()
    return chain
