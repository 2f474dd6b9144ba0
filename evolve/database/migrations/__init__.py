"""Versioned schema: Alembic migrations shipped inside the package.

Revision ``NNNN`` produces schema version ``N`` (the ``schema_version`` row of
``evolve_meta``), and each migration updates that row itself, so ``evolve_meta`` stays
the one place that says which layout a database has. Alembic's own ``alembic_version``
table is derived from it before every upgrade (databases written before migrations
existed do not have one), which is why no ``alembic.ini`` is needed: the configuration
is built here in code and the migrations run on a connection we hand them.

    upgrade_database("sqlite:///runs/x/evolve.db")
    # -> UpgradeReport(from_version=1, to_version=2)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, inspect, select

from evolve.database.engine import create_store_engine, describe, normalize_url
from evolve.database.models import FORMAT_MARKER, SCHEMA_VERSION, meta_table
from evolve.errors import UserError

SCRIPTS_DIR = Path(__file__).resolve().parent


@dataclass
class UpgradeReport:
    where: str
    from_version: int
    to_version: int

    @property
    def changed(self) -> bool:
        return self.from_version != self.to_version


def revision_of(version: int) -> str:
    """The Alembic revision id that produces schema ``version``."""
    return f"{version:04d}"


def alembic_config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    """An Alembic ``Config`` pointing at the shipped scripts (no ini file)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(SCRIPTS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def stored_version(conn: Connection, where: str) -> int | None:
    """The schema version a database says it has; None for an empty database."""
    tables = set(inspect(conn).get_table_names())
    if meta_table.name not in tables:
        if tables:
            raise UserError("not an evolve database (no evolve_meta table)", where)
        return None
    meta = {row.key: row.value for row in conn.execute(select(meta_table))}
    if meta.get("format") != FORMAT_MARKER:
        raise UserError(f"not an evolve database (format marker {meta.get('format')!r})", where)
    return int(meta.get("schema_version", "0"))


def upgrade_to(conn: Connection, revision: str) -> None:
    """Run the migrations up to ``revision`` on ``conn`` (the caller commits)."""
    from alembic import command

    cfg = alembic_config(conn)
    version = stored_version(conn, "database")
    # The stored schema version is the truth; make Alembic's bookkeeping agree with it.
    command.stamp(cfg, revision_of(version) if version else "base", purge=True)
    command.upgrade(cfg, revision)


def upgrade_database(url: str | Path) -> UpgradeReport:
    """Upgrade the database at ``url`` in place to this evolve's schema version.

    Refuses missing, foreign and newer databases with ``UserError``. Every migration
    runs in one transaction (on PostgreSQL DDL is transactional too).
    """
    parsed = normalize_url(url)
    where = describe(parsed)
    engine = create_store_engine(parsed, must_exist=True, check_version=False)
    try:
        with engine.begin() as conn:
            before = stored_version(conn, where)
            if before is None:
                raise UserError("not an evolve database (no tables)", where)
            if before > SCHEMA_VERSION:
                raise UserError(
                    f"database schema version {before} was written by a newer evolve "
                    f"(this one knows versions up to {SCHEMA_VERSION})", where)
            if before < SCHEMA_VERSION:
                upgrade_to(conn, revision_of(SCHEMA_VERSION))
            after = stored_version(conn, where)
    finally:
        engine.dispose()
    return UpgradeReport(where, before, after or before)
