"""The store conformance suite (evolve.testing.store_kit) on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from support_postgres import postgres_url  # noqa: F401  (fixture)

from evolve.testing.store_kit import StoreConformance


class TestSQLiteStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'evolve.db'}"


class TestPostgresStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _database(self, postgres_url: str) -> None:  # noqa: F811
        self.url = postgres_url
