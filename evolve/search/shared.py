"""Several controllers on one run: each owns some islands, migration goes through the store.

A controller started with ``database.islands_owned`` works only on those islands: it
samples parents there, its children land there, and it writes programs only there. So
two controllers never write the same island and need no locks beyond the store's own
transactions; the run's counters (and so its budgets) are shared.

Migration follows the usual ring (island ``i`` sends elites to ``i + 1``), pulled by the
owner of the destination: for each owned island it takes the best programs of the ring
predecessor, from its own in-memory state when it owns that island too, otherwise from
the store (only rows added since the last round are read, so a round costs one small
indexed query), and adds copies to its own island.

Who owns what is recorded by :class:`evolve.database.claims.IslandClaim`.
"""

from __future__ import annotations

from collections.abc import Callable

from evolve.config import DatabaseConfig, check_islands_owned
from evolve.database.claims import IslandClaim
from evolve.database.ledger import Attempt, Outcome
from evolve.database.records import ProgramRecord, RunCounters
from evolve.database.store import Store
from evolve.search.islands import is_ranked
from evolve.search.migration import migrant, migrants_per_island
from evolve.search.population import Population

REMOTE_TOP = 10  # best programs remembered per remote source island


class SharedIslands:
    """This controller's share of a run that other controllers work on too
    (an :class:`~evolve.search.scope.IslandScope`)."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        population: Population,
        cfg: DatabaseConfig,
        owned: list[int],
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.population = population
        self.cfg = cfg
        self.islands = check_islands_owned(owned, cfg.num_islands)
        self.claim = IslandClaim(store, run_id, self.islands)
        n = cfg.num_islands
        self.remote_sources = sorted({(d - 1) % n for d in self.islands} - set(self.islands))
        self._remote_best: dict[int, list[ProgramRecord]] = {s: [] for s in self.remote_sources}
        self._last_seq = 0
        self._issued: dict[int, int] | None = None
        self._next_round_at = max(cfg.migration_interval, 1)

    @property
    def id(self) -> str:
        return self.claim.id

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> list[ProgramRecord]:
        """Claim the owned islands; their programs, in stored order (to rebuild from)."""
        self.claim.claim()
        return [p for p in self.store.programs(self.run_id) if p.island in self.islands]

    def needs_seeding(self, programs: list[ProgramRecord], counters: RunCounters) -> bool:
        """Own islands only: other controllers' iterations say nothing about ours."""
        return all(p.origin == "initial" for p in programs)

    def stop(self) -> None:
        self.claim.release()

    # ------------------------------------------------------------------ sampling

    def next_island(self) -> int:
        """The owned island with the fewest iterations handed out."""
        if self._issued is None:
            self._issued = {i: self.population.islands[i].children for i in self.islands}
            interval = max(self.cfg.migration_interval, 1)
            self._next_round_at = (self._min_children() // interval + 1) * interval
        island = min(self.islands, key=self._issued.__getitem__)
        self._issued[island] += 1
        return island

    def _min_children(self) -> int:
        return min(self.population.islands[i].children for i in self.islands)

    # ------------------------------------------------------------------ migration

    def migrate_if_due(self, next_id: Callable[[], str]) -> Attempt | None:
        """Every ``migration_interval`` iterations per owned island: pull elites of each
        ring predecessor into the owned island after it. The copies are added to the
        population and returned as a ledger entry to store."""
        self.claim.heartbeat()
        if self.cfg.num_islands < 2 or self.cfg.migration_interval <= 0:
            return None
        if self._min_children() < self._next_round_at:
            return None
        interval = max(self.cfg.migration_interval, 1)
        self._next_round_at = (self._min_children() // interval + 1) * interval
        self._read_remote()
        copies: list[ProgramRecord] = []
        remote = 0
        for destination in self.islands:
            source = (destination - 1) % self.cfg.num_islands
            planned: set[int] = set()
            candidates = self._elites_of(source)
            wanted = migrants_per_island(len(candidates), self.cfg.migration_rate)
            for original in candidates[:wanted]:
                code_hash = hash(original.code)
                if code_hash in self.population.islands[destination].code_hashes:
                    continue
                if code_hash in planned:
                    continue
                planned.add(code_hash)
                copies.append(migrant(original, destination, next_id(), original.iteration))
                remote += source not in self.islands
        for copy in copies:
            copy.run_id = self.run_id
            self.population.add(copy)
        entry = Attempt(self.run_id, 0, Outcome.COPIED, programs=copies)
        entry.event(
            "migration",
            {
                "copies": len(copies),
                "from_other_controllers": remote,
                "controller": self.id,
                "islands": self.islands,
            },
        )
        return entry

    def _elites_of(self, source: int) -> list[ProgramRecord]:
        if source in self.islands:
            elites = self.population.islands[source].elites()
            return [self.population.get(key[2]) for key in elites]
        return list(self._remote_best[source])

    def _read_remote(self) -> None:
        """Fold programs other controllers stored since the last round into the per-island
        best lists (one indexed query over new rows only)."""
        if not self.remote_sources:
            return
        self._last_seq, programs = self.store.programs_after(
            self.run_id, self._last_seq, self.remote_sources
        )
        for program in programs:
            if not is_ranked(program):
                continue
            best = self._remote_best[program.island]
            if any(hash(b.code) == hash(program.code) for b in best):
                continue
            best.append(program)
            best.sort(key=lambda p: -float(p.score or 0.0))
            del best[REMOTE_TOP:]
