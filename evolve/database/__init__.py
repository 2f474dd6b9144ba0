"""Persistence: what a run stored, and the one place that writes it.

- ``records``: the dataclasses that cross this seam (``ProgramRecord`` and friends).
- ``ledger``: ``Attempt``, one entry per iteration; it alone decides the counters.
- ``store``: the SQLAlchemy repository (SQLite or PostgreSQL, chosen by URL).
- ``claims``: which controller owns which islands of a shared run.
- ``codec``, ``models``, ``engine``, ``migrations``: rows, tables, engines, schema upgrades.

The search policy over these records (islands, MAP-Elites, parent selection) lives in
``evolve.search``.
"""

from __future__ import annotations

from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import (
    EventRecord,
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    RunRecord,
    new_id,
)
from evolve.database.store import Store

__all__ = [
    "Attempt",
    "EventRecord",
    "LLMCallRecord",
    "Outcome",
    "ProgramRecord",
    "RunCounters",
    "RunRecord",
    "Store",
    "new_id",
]
