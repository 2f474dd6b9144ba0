"""Helpers for the scale-out tests (schema upgrades, shared runs)."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from evolve.database.engine import normalize_url


def fresh_postgres_database(server_url: str, name: str) -> str:
    """A new empty database ``name`` on the test server (dropped first if it exists)."""
    engine = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name

