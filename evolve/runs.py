"""Run folders: where a run lives, how it is created and reopened.

A run folder holds ``run.json`` (run id, problem folder, and its database: a path
relative to the folder) and, with the default SQLite store, ``evolve.db``. PostgreSQL
users keep many runs in one database; the folder then records its URL without the
password, and commands that open it need ``--database URL`` (see
``evolve.run_folder``: what a folder may name, and the one-controller lock).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolve.config import Config, config_from_stored, to_dict
from evolve.config_sources import ConfigLayers
from evolve.database.store import Store
from evolve.errors import UserError
from evolve.problem import Problem, load_problem
from evolve.run_folder import (
    DATABASE_FILE,
    RUN_FILE,
    RunLock,
    database_entry,
    database_url,
    lock_run,
    read_run_file,
)


@dataclass
class OpenRun:
    run_id: str
    run_dir: Path
    store: Store
    problem: Problem
    lock: RunLock | None = None  # held while a controller works on the run

    def close(self) -> None:
        self.store.close()
        if self.lock is not None:
            self.lock.release()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def create_run(
    problem: Problem, out: Path | None = None, name: str | None = None, lock: bool = False
) -> OpenRun:
    """Make a new run folder and its database row (``lock``: and hold its lock)."""
    cfg = problem.config
    root = Path(out or cfg.out)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = root / (name or f"{problem.name}-{stamp}")
    suffix = 1
    while (run_dir / RUN_FILE).exists():
        suffix += 1
        run_dir = root / f"{name or problem.name + '-' + stamp}-{suffix}"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the run folder ({exc.strerror})", str(run_dir)) from None
    held = lock_run(run_dir) if lock else None
    url = cfg.database.url or f"sqlite:///{(run_dir / DATABASE_FILE).resolve()}"
    store = Store(url)
    run_id = store.create_run(run_dir.name, problem.name, to_dict(cfg), cfg.seed)
    _write_json_atomic(
        run_dir / RUN_FILE,
        {
            "run_id": run_id,
            **database_entry(url, run_dir),
            "problem_dir": str(problem.directory),
            "created_at": time.time(),
        },
    )
    return OpenRun(run_id, run_dir, store, problem, held)


def join_run(
    problem: Problem, run_id: str, out: Path | None = None, name: str | None = None,
    lock: bool = False,
) -> OpenRun:
    """A run folder for one more controller on an existing run in a shared database.

    The joining controller works only on ``database.islands_owned`` (see
    ``evolve.database.shared_islands``); its folder records those islands, so
    ``evolve resume`` of this folder takes the same ones again.
    """
    cfg = problem.config
    if not cfg.database.url:
        raise UserError(
            "joining a run needs its shared database, e.g. "
            "--set database.url=postgresql+psycopg://user@host/db",
            "database.url",
        )
    if cfg.database.islands_owned is None:
        raise UserError(
            "a joining controller must say which islands it works on, e.g. "
            "--set database.islands_owned=[2,3]",
            "database.islands_owned",
        )
    store = Store.open_existing(cfg.database.url)
    record = store.get_run(run_id)
    islands = record.config.get("database", {}).get("num_islands")
    if islands != cfg.database.num_islands:
        store.close()
        raise UserError(
            f"run {run_id} has {islands} islands, this config {cfg.database.num_islands}",
            "database.num_islands",
        )
    run_dir = Path(out or cfg.out) / (
        name or f"{problem.name}-{run_id[:8]}-{time.strftime('%H%M%S')}"
    )
    if (run_dir / RUN_FILE).exists():
        store.close()
        raise UserError("a run folder with this name exists; pass another --name", str(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    held = lock_run(run_dir) if lock else None
    _write_json_atomic(
        run_dir / RUN_FILE,
        {
            "run_id": run_id,
            **database_entry(cfg.database.url, run_dir),
            "problem_dir": str(problem.directory),
            "created_at": time.time(),
            "islands_owned": cfg.database.islands_owned,
        },
    )
    return OpenRun(run_id, run_dir, store, problem, held)


def resolve_run_dir(run: str | Path) -> Path:
    path = Path(run)
    if path.is_file() and path.name in (RUN_FILE, "evolve.db"):
        path = path.parent
    if not (path / RUN_FILE).is_file():
        raise UserError(
            f"not a run folder (no {RUN_FILE}); runs live under runs/ by default", str(run)
        )
    return path


def open_run(run: str | Path, database: str | None = None, lock: bool = False) -> OpenRun:
    """Reopen a run with the configuration it was started with.

    ``database``: a URL given on the command line, for a run whose database is not
    inside its folder. ``lock``: take the folder's lock (a controller will work on the
    run); refused with ``UserError`` while another process holds it. The lock is taken
    after the database was checked and before anything is written.
    """
    run_dir = resolve_run_dir(run)
    meta = read_run_file(run_dir)
    url = database_url(run_dir, meta, database)
    problem_dir = meta.get("problem_dir")
    if not isinstance(problem_dir, str):
        raise UserError("damaged run file ('problem_dir')", str(run_dir / RUN_FILE))
    run_id = meta["run_id"]
    store = Store.open_existing(url)
    held: RunLock | None = None
    try:
        record = store.get_run(run_id)
        held = lock_run(run_dir) if lock else None
        return _reopen(run_dir, meta, store, record.config, problem_dir, held)
    except BaseException:
        store.close()
        if held is not None:
            held.release()
        raise


def _reopen(run_dir: Path, meta: dict[str, Any], store: Store, record_config: dict[str, Any],
            problem_dir: str, held: RunLock | None) -> OpenRun:
    run_id = meta["run_id"]
    config: Config = config_from_stored(record_config)  # migrated from older schemas
    problem = load_problem(problem_dir)
    if "islands_owned" in meta:  # a folder made by join_run: this controller's islands
        config.database.islands_owned = meta["islands_owned"]
    problem.config = config
    problem.sources = ConfigLayers([(record_config, f"{run_dir} (the run's stored config)")])
    return OpenRun(run_id, run_dir, store, problem, held)
