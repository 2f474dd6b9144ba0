"""What a run folder may name, and who may work on it.

A run folder travels: it is copied, moved, zipped and handed to others, and its
``run.json`` is as trustworthy as whoever handed it over. So:

- ``run.json`` names its SQLite database relative to the folder (``"database":
  "evolve.db"``): a copied folder is an independent run, a moved one keeps working.
- Whatever ``run.json`` says, evolve opens only a database inside the folder. A
  database anywhere else (another file, a PostgreSQL server) is used only when the
  user passes its URL on the command line (``--database URL``); the refusal reads the
  same whether or not such a file exists. Older ``run.json`` files hold an absolute
  path: inside the folder it is taken as relative, and ``.../evolve.db`` of a folder
  that was moved or copied means the folder's own ``evolve.db``.
- One controller works on a run folder at a time: ``lock_run`` holds an OS lock on
  ``controller.lock`` for the controller's lifetime. The OS releases it when the
  process ends, however it ends (SIGKILL included), so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any, Self

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from evolve.errors import UserError
from evolve.safe_text import line

RUN_FILE = "run.json"
DATABASE_FILE = "evolve.db"
LOCK_FILE = "controller.lock"
MAX_RUN_FILE_BYTES = 1_000_000


def read_run_file(run_dir: Path) -> dict[str, Any]:
    """``run.json`` as a dict with a string ``run_id``; UserError when it is not one."""
    path = run_dir / RUN_FILE
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_RUN_FILE_BYTES + 1)
        if len(raw) > MAX_RUN_FILE_BYTES:
            raise ValueError(f"larger than {MAX_RUN_FILE_BYTES:,} bytes")
        meta = json.loads(raw.decode("utf-8"))
        if not isinstance(meta, dict):
            raise TypeError("not a JSON object")
        if not isinstance(meta.get("run_id"), str):
            raise KeyError("run_id")
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as exc:
        raise UserError(f"damaged run file ({line(exc)})", str(path)) from None
    return meta


def database_entry(url: str, run_dir: Path) -> dict[str, str]:
    """What ``run.json`` records for the database at ``url``: a path relative to the
    folder when it is a SQLite file inside it, else the URL without its password."""
    inside = _inside(_sqlite_file(url), run_dir)
    if inside is not None:
        return {"database": inside.relative_to(run_dir.resolve()).as_posix()}
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = url
    return {"database_url": shown}


def database_url(run_dir: Path, meta: dict[str, Any], explicit: str | None = None) -> str:
    """The database of the run folder ``run_dir`` (whose ``run.json`` is ``meta``).

    ``explicit`` (a URL the user passed on the command line) wins. Otherwise only a
    SQLite file inside the folder is accepted.
    """
    if explicit:
        return explicit
    where = str(run_dir / RUN_FILE)
    relative = meta.get("database")
    if relative is not None:
        path = Path(relative) if isinstance(relative, str) else None  # relative to the folder
        inside = _inside(path, run_dir) if path is not None else None
        if inside is None:
            raise UserError(_outside(str(relative)), where)
        return f"sqlite:///{inside}"
    recorded = meta.get("database_url")
    if not isinstance(recorded, str):
        raise UserError("damaged run file (no 'database' or 'database_url')", where)
    path = _sqlite_file(recorded)  # a relative one is taken as relative to the folder
    inside = _inside(path, run_dir)
    if inside is None and path is not None and path.name == DATABASE_FILE:
        # An older run.json: the absolute path of the folder's own database, written
        # before the folder was moved or copied here.
        inside = _inside(run_dir / DATABASE_FILE, run_dir, must_exist=True)
    if inside is None:
        raise UserError(_outside(recorded), where)
    return f"sqlite:///{inside}"


def _outside(named: str) -> str:
    try:
        shown = make_url(named).render_as_string(hide_password=True)
    except ArgumentError:
        shown = named
    return (f"names a database outside the run folder ({line(shown, 120)}); evolve opens "
            "only the folder's own database unless you pass --database URL")


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL (or plain path) names; None for anything else."""
    if "://" not in url:
        return Path(url) if url else None
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:") or parsed.query:
        return None  # URI filenames and options can name other files: not ours to follow
    return Path(database)


def _inside(path: Path | None, run_dir: Path, must_exist: bool = False) -> Path | None:
    """``path`` resolved (symbolic links followed) when it lies inside ``run_dir``."""
    if path is None:
        return None
    base = run_dir.resolve()
    # Decide on the written path first, so nothing outside the folder is ever looked at.
    written = Path(os.path.normpath(path if path.is_absolute() else base / path))
    if not written.is_relative_to(base) or written == base:
        return None
    resolved = written.resolve()
    if not resolved.is_relative_to(base) or resolved == base:
        return None
    if must_exist and not resolved.is_file():
        return None
    return resolved


class RunLock:
    """The exclusive lock of one run folder, held by the controller working on it."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file drops the lock
            self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def lock_run(run_dir: Path) -> RunLock:
    """Take the run folder's lock, or refuse: another controller is working on it."""
    path = run_dir / LOCK_FILE
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise UserError(f"cannot open the run's lock file ({exc.strerror})", str(path)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = line(os.pread(fd, 200, 0).decode("utf-8", "replace"), 100) or "unknown"
        os.close(fd)
        raise UserError(
            f"another controller ({holder}) is working on this run; wait for it to finish "
            "or stop it (Ctrl-C), then resume", str(run_dir)) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
    return RunLock(run_dir, fd)
