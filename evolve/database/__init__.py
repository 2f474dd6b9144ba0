"""Durable storage (``Store``) and in-memory search state (``ProgramDatabase``).

- ``records``: the dataclasses that cross this seam (``ProgramRecord`` and friends).
- ``store``: the SQLAlchemy repository (SQLite or PostgreSQL, chosen by URL).
- ``sampling``: islands, MAP-Elites cells, the elite archive, parent sampling.
- ``migration``: ring migration of elite copies between islands.
"""

from __future__ import annotations

from evolve.database.records import (
    EventRecord,
    LLMCallRecord,
    ProgramRecord,
    RunCounters,
    RunRecord,
    new_id,
)
from evolve.database.sampling import DatabaseStats, ProgramDatabase, Sample
from evolve.database.store import Store

__all__ = [
    "DatabaseStats",
    "EventRecord",
    "LLMCallRecord",
    "ProgramDatabase",
    "ProgramRecord",
    "RunCounters",
    "RunRecord",
    "Sample",
    "Store",
    "new_id",
]
