"""Engine creation and the "is this our database?" check.

SQLite (the default) needs care with several writers (controller, a resumed run,
a second process): read-then-write transactions must take the write lock up front
(``BEGIN IMMEDIATE``), otherwise two deferred transactions that both read and then
write fail with "database is locked" or, worse, lose updates. pysqlite's own
transaction handling is switched off (``isolation_level=None``) so SQLAlchemy's
``begin`` event can emit the BEGIN itself. Connections opened for reading only
(``READ_ONLY`` execution option) begin a deferred transaction, which in WAL mode
sees a snapshot and never blocks the writer.

PostgreSQL uses the same tables and statements; only the URL differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from evolve.database.lenient import decode_json, decode_text
from evolve.database.models import FORMAT_MARKER, SCHEMA_VERSION, meta_table, metadata
from evolve.errors import UserError

READ_ONLY = "evolve_read_only"  # execution option: begin a deferred (non-locking) transaction
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 60_000
READER_BUSY_TIMEOUT_MS = 1_000  # browsing a locked database fails fast, with a clear message


def normalize_url(url: str | Path) -> URL:
    """Accept a SQLAlchemy URL or a plain file path (which means SQLite)."""
    text = str(url)
    if "://" not in text:
        text = "sqlite:///" + str(Path(text).expanduser().resolve())
    try:
        parsed = make_url(text)
    except ArgumentError as exc:
        raise UserError(f"invalid database URL ({exc})", "database.url") from None
    if parsed.drivername == "postgresql" and not _importable("psycopg2") and _importable("psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for other backends and in-memory SQLite."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def describe(url: URL) -> str:
    """Where the database is, for messages (never shows a password)."""
    path = sqlite_path(url)
    return str(path) if path is not None else url.render_as_string(hide_password=True)


def create_store_engine(
    url: URL, must_exist: bool, check_version: bool = True, reader: bool = False
) -> Engine:
    """An engine for ``url`` whose database is checked to be ours (or created empty).

    ``check_version=False`` accepts older schema versions (for ``evolve db upgrade``).
    ``reader=True`` (browsing): the database must exist and is never written (SQLite
    ``query_only``, no tables created, no journal mode changed); a lock held by another
    process fails after about a second, and database errors raise ``UserError``.
    """
    path = sqlite_path(url)
    where = describe(url)
    if path is not None:
        _check_sqlite_file(path, must_exist or reader, reader)
    try:
        engine = _make_engine(url, reader)
    except (ImportError, ArgumentError) as exc:
        raise UserError(f"cannot use database URL ({exc})", "database.url") from None
    if reader:
        _raise_user_errors(engine, where)
    try:
        try:
            ensure_schema(engine, where, create=not (must_exist or reader),
                          check_version=check_version, reader=reader)
        except SQLAlchemyError:
            if path is not None:
                raise
            # Two processes creating the tables of one new PostgreSQL database at once:
            # the loser's DDL fails; by now the tables exist, so checking again succeeds.
            ensure_schema(engine, where, create=not (must_exist or reader),
                          check_version=check_version, reader=reader)
    except UserError:
        engine.dispose()
        raise
    except SQLAlchemyError as exc:
        engine.dispose()
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise UserError(f"not an evolve database ({detail})", where) from None
    return engine


def ensure_schema(engine: Engine, where: str, create: bool, check_version: bool = True,
                  reader: bool = False) -> None:
    """Refuse foreign, newer or (unless ``check_version`` is off) older databases;
    create the tables in an empty one (never for a ``reader``)."""
    conn_cm = engine.connect().execution_options(**{READ_ONLY: True}) if reader else engine.begin()
    with conn_cm as conn:
        tables = set(inspect(conn).get_table_names())
        if meta_table.name in tables:
            meta = {row.key: row.value for row in conn.execute(select(meta_table))}
            if meta.get("format") != FORMAT_MARKER:
                raise UserError(
                    f"not an evolve database (format marker {meta.get('format')!r})", where
                )
            version = int(meta.get("schema_version", "0"))
            if version > SCHEMA_VERSION:
                raise UserError(
                    f"database schema version {version} was written by a newer evolve "
                    f"(this one reads version {SCHEMA_VERSION})",
                    where,
                )
            if version < SCHEMA_VERSION:
                if check_version:
                    raise UserError(
                        f"database schema version {version} is older than this evolve's "
                        f"({SCHEMA_VERSION}); upgrade it in place with: evolve db upgrade {where}",
                        where,
                    )
                return  # the migrations bring it up to date; create_all would pre-empt them
            if not reader:  # a reader reports a missing table when it needs it
                metadata.create_all(conn, checkfirst=True)
            return
        if tables:
            listed = ", ".join(sorted(tables)[:5])
            raise UserError(f"not an evolve database (has tables {listed}, no evolve_meta)", where)
        if not create:
            raise UserError("not an evolve database (no tables)", where)
        metadata.create_all(conn, checkfirst=True)
        conn.execute(
            meta_table.insert(),
            [
                {"key": "format", "value": FORMAT_MARKER},
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
            ],
        )


def _check_sqlite_file(path: Path, must_exist: bool, reader: bool = False) -> None:
    where = str(path)
    if path.is_dir():
        raise UserError("not an evolve database (a directory)", where)
    if not path.exists():
        if must_exist:
            raise UserError("database file not found", where)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise UserError(f"cannot read database file ({exc.strerror})", where) from None
    if header and header != SQLITE_HEADER:
        raise UserError("not an evolve database (not an SQLite file)", where)
    if not header and must_exist:
        raise UserError("not an evolve database (empty file)", where)
    if header:
        _refuse_foreign_sqlite(path, must_exist, reader)


def _refuse_foreign_sqlite(path: Path, must_exist: bool, reader: bool) -> None:
    """Look at an existing SQLite file read-only first: opening it through the engine
    already changes it (the WAL pragma rewrites its header), and another application's
    database must be refused untouched."""
    companions = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
    existed = [p for p in companions if p.exists()]
    try:
        _check_sqlite_tables(path, must_exist, reader)
    except UserError:
        # Reading a WAL-mode file read-only still creates its -wal/-shm: leave no trace.
        for companion in companions:
            if companion not in existed:
                companion.unlink(missing_ok=True)
        raise


def _check_sqlite_tables(path: Path, must_exist: bool, reader: bool) -> None:
    import sqlite3

    timeout_ms = READER_BUSY_TIMEOUT_MS if reader else BUSY_TIMEOUT_MS
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               timeout=timeout_ms / 1000)
        conn.text_factory = decode_text
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if _is_lock_error(exc):
            raise UserError(_locked_message(timeout_ms), str(path)) from None
        raise UserError(f"not an evolve database ({exc})", str(path)) from None
    tables = {str(row[0]) for row in rows}
    if not tables and must_exist:
        raise UserError("not an evolve database (no tables)", str(path))
    if tables and meta_table.name not in tables:
        listed = ", ".join(sorted(tables)[:5])
        raise UserError(f"not an evolve database (has tables {listed}, no {meta_table.name})",
                        str(path))


def _make_engine(url: URL, reader: bool = False) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    timeout_ms = READER_BUSY_TIMEOUT_MS if reader else BUSY_TIMEOUT_MS
    # Damaged text or JSON in one field must not make the whole run unreadable.
    kwargs: dict[str, Any] = {"connect_args": {"timeout": timeout_ms / 1000},
                              "json_deserializer": decode_json}
    if sqlite_path(url) is None:  # in-memory: one shared connection, or every checkout is empty
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    engine = create_engine(url, **kwargs)
    _install_sqlite_transaction_control(engine, in_memory=sqlite_path(url) is None,
                                        reader=reader, timeout_ms=timeout_ms)
    return engine


def _install_sqlite_transaction_control(engine: Engine, in_memory: bool, reader: bool = False,
                                        timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        dbapi_connection.text_factory = decode_text
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
            if reader:
                cursor.execute("PRAGMA query_only=ON")  # browsing never changes a run
            elif not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                # WAL + NORMAL survives process crashes; an OS crash may roll back the
                # last commits but never corrupts the file.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _raise_user_errors(engine: Engine, where: str) -> None:
    """Readers: a locked or damaged database is one line for the user, not a traceback."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        original = context.original_exception
        if not isinstance(original, Exception) or isinstance(original, UserError):
            return
        if _is_lock_error(original):
            raise UserError(_locked_message(READER_BUSY_TIMEOUT_MS), where) from None
        detail = str(original).splitlines()[0] if str(original) else type(original).__name__
        raise UserError(f"damaged database ({detail})", where) from None


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def _locked_message(timeout_ms: int) -> str:
    return (f"database is locked by another process (waited {timeout_ms / 1000:g} s); "
            "try again when it is free")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
