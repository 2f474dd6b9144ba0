"""Which islands a controller works on: all of them, or its share of a shared run.

The loop never asks which mode it is in; it calls an :class:`IslandScope`:

1. ``start()`` once: claim what is needed; returns the stored programs to rebuild from;
2. ``needs_seeding(programs, counters)``: whether the baselines still need evaluating;
3. ``islands``: where the baselines go; ``next_island()`` once per iteration;
4. ``migrate_if_due(new_id)`` after each iteration: the copies of a migration round,
   already in the population, as a ledger entry to store (or None);
5. ``stop()`` once, at the end, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from evolve.config import DatabaseConfig
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord, RunCounters
from evolve.database.store import Store
from evolve.search.population import Population
from evolve.search.shared import SharedIslands


class IslandScope(Protocol):
    islands: list[int]

    def start(self) -> list[ProgramRecord]: ...

    def needs_seeding(self, programs: list[ProgramRecord], counters: RunCounters) -> bool: ...

    def next_island(self) -> int: ...

    def migrate_if_due(self, next_id: Callable[[], str]) -> Attempt | None: ...

    def stop(self) -> None: ...


class AllIslands:
    """The usual case: one controller works on every island of the run."""

    def __init__(self, store: Store, run_id: str, population: Population) -> None:
        self.store = store
        self.run_id = run_id
        self.population = population
        self.islands = list(range(len(population.islands)))

    def start(self) -> list[ProgramRecord]:
        return list(self.store.programs(self.run_id))

    def needs_seeding(self, programs: list[ProgramRecord], counters: RunCounters) -> bool:
        return counters.iterations == 0 and all(p.origin == "initial" for p in programs)

    def next_island(self) -> int:
        return self.population.next_island()

    def migrate_if_due(self, next_id: Callable[[], str]) -> Attempt | None:
        if not self.population.should_migrate():
            return None
        copies = self.population.migrate(next_id)
        for copy in copies:
            copy.run_id = self.run_id
        entry = Attempt(self.run_id, 0, Outcome.COPIED, programs=copies)
        entry.event("migration", {"copies": len(copies)})
        return entry

    def stop(self) -> None:
        return None


def island_scope(
    store: Store, run_id: str, population: Population, cfg: DatabaseConfig
) -> IslandScope:
    """``database.islands_owned`` set: this controller's share; otherwise every island."""
    if cfg.islands_owned is not None:
        return SharedIslands(store, run_id, population, cfg, cfg.islands_owned)
    return AllIslands(store, run_id, population)
