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

The ``controllers`` table records who owns what; claiming islands that a live controller
(a heartbeat within ``STALE_AFTER_S``) holds is refused.
"""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable

from sqlalchemy import select, update

from evolve.config import DatabaseConfig
from evolve.database import codec
from evolve.database.engine import READ_ONLY
from evolve.database.migration import migrant, migrants_per_island
from evolve.database.models import controllers_table, programs_table, runs_table
from evolve.database.records import ProgramRecord, new_id
from evolve.database.sampling import ProgramDatabase
from evolve.database.store import Store
from evolve.errors import UserError

STALE_AFTER_S = 300.0  # a controller silent this long is presumed dead; its islands are free
HEARTBEAT_EVERY_S = 30.0
REMOTE_TOP = 10  # best programs remembered per remote source island


def check_islands_owned(owned: list[int], num_islands: int) -> list[int]:
    """Validated, sorted island indexes (UserError naming database.islands_owned)."""
    where = "database.islands_owned"
    if not owned:
        raise UserError("must list at least one island", where)
    if len(set(owned)) != len(owned):
        raise UserError(f"lists an island twice: {owned}", where)
    outside = [i for i in owned if not 0 <= i < num_islands]
    if outside:
        raise UserError(f"islands {outside} do not exist (num_islands is {num_islands})", where)
    return sorted(owned)


class SharedIslands:
    """This controller's share of a run that other controllers work on too."""

    def __init__(self, store: Store, run_id: str, db: ProgramDatabase, cfg: DatabaseConfig,
                 owned: list[int]) -> None:
        self.store = store
        self.run_id = run_id
        self.db = db
        self.cfg = cfg
        self.owned = check_islands_owned(owned, cfg.num_islands)
        self.id = new_id()
        n = cfg.num_islands
        self.remote_sources = sorted({(d - 1) % n for d in self.owned} - set(self.owned))
        self._remote_best: dict[int, list[ProgramRecord]] = {s: [] for s in self.remote_sources}
        self._last_seq = 0
        self._issued: dict[int, int] | None = None
        self._next_round_at = max(cfg.migration_interval, 1)
        self._last_heartbeat = 0.0

    # ------------------------------------------------------------------ ownership

    def claim(self) -> None:
        """Register as the owner of ``owned``; refuse islands a live controller holds."""
        now = time.time()
        with self.store.engine.begin() as conn:
            # Lock the run row so two controllers claiming at once are serialised
            # (PostgreSQL; SQLite's BEGIN IMMEDIATE already is).
            conn.execute(select(runs_table.c.id).where(runs_table.c.id == self.run_id).with_for_update())
            rows = conn.execute(select(controllers_table).where(
                controllers_table.c.run_id == self.run_id, controllers_table.c.released_at.is_(None),
                controllers_table.c.heartbeat_at > now - STALE_AFTER_S)).all()
            for row in rows:
                taken = sorted(set(row.islands) & set(self.owned))
                if taken:
                    raise UserError(
                        f"islands {taken} of run {self.run_id} are owned by a live controller "
                        f"({row.host}, pid {row.pid}); choose other islands", "database.islands_owned")
            conn.execute(controllers_table.insert().values(
                id=self.id, run_id=self.run_id, islands=self.owned, host=socket.gethostname(),
                pid=os.getpid(), started_at=now, heartbeat_at=now, released_at=None))
        self._last_heartbeat = now

    def release(self) -> None:
        self._touch(released_at=time.time())

    def heartbeat(self) -> None:
        if time.time() - self._last_heartbeat >= HEARTBEAT_EVERY_S:
            self._touch()

    def _touch(self, **values: float) -> None:
        now = time.time()
        with self.store.engine.begin() as conn:
            conn.execute(update(controllers_table).where(controllers_table.c.id == self.id)
                         .values(heartbeat_at=now, **values))
        self._last_heartbeat = now

    # ------------------------------------------------------------------ state

    def own_programs(self) -> list[ProgramRecord]:
        """This controller's islands' programs, in stored order (for rebuild on start)."""
        return [p for p in self.store.programs(self.run_id) if p.island in self.owned]

    def next_island(self) -> int:
        """The owned island with the fewest iterations handed out."""
        if self._issued is None:
            self._issued = {i: self.db.islands[i].children for i in self.owned}
            interval = max(self.cfg.migration_interval, 1)
            self._next_round_at = (self._min_children() // interval + 1) * interval
        island = min(self.owned, key=self._issued.__getitem__)
        self._issued[island] += 1
        return island

    def _min_children(self) -> int:
        return min(self.db.islands[i].children for i in self.owned)

    # ------------------------------------------------------------------ migration

    def migrate_if_due(self, next_id: Callable[[], str] = new_id) -> list[ProgramRecord]:
        """Every ``migration_interval`` iterations per owned island: pull elites of each
        ring predecessor into the owned island after it. Returns the stored copies."""
        self.heartbeat()
        if self.cfg.num_islands < 2 or self.cfg.migration_interval <= 0:
            return []
        if self._min_children() < self._next_round_at:
            return []
        interval = max(self.cfg.migration_interval, 1)
        self._next_round_at = (self._min_children() // interval + 1) * interval
        self._read_remote()
        copies: list[ProgramRecord] = []
        sources: list[int] = []
        for destination in self.owned:
            source = (destination - 1) % self.cfg.num_islands
            planned: set[int] = set()
            candidates = self._elites_of(source)
            for original in candidates[: migrants_per_island(len(candidates), self.cfg.migration_rate)]:
                code_hash = hash(original.code)
                if code_hash in self.db.islands[destination].code_hashes or code_hash in planned:
                    continue
                planned.add(code_hash)
                copies.append(migrant(original, destination, next_id(), original.iteration))
                sources.append(source)
        for copy in copies:
            copy.run_id = self.run_id
            self.db.add(copy)
            self.store.add_program(copy, [])
        remote = sum(1 for s in sources if s not in self.owned)
        self.store.add_event(self.run_id, "migration", {
            "copies": len(copies), "from_other_controllers": remote, "controller": self.id,
            "islands": self.owned})
        return copies

    def _elites_of(self, source: int) -> list[ProgramRecord]:
        if source in self.owned:
            return [self.db.get(key[2]) for key in self.db.islands[source].elites()]
        return list(self._remote_best[source])

    def _read_remote(self) -> None:
        """Fold programs other controllers stored since the last round into the per-island
        best lists (one indexed query over new rows only)."""
        if not self.remote_sources:
            return
        query = (codec.program_select()
                 .where(programs_table.c.run_id == self.run_id, programs_table.c.seq > self._last_seq,
                        programs_table.c.island.in_(self.remote_sources))
                 .order_by(programs_table.c.seq))
        with self.store.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        self._last_seq = rows[-1].seq
        for row in rows:
            program = codec.program_from_row(row)
            if not (program.valid and program.score is not None and math.isfinite(float(program.score))):
                continue
            best = self._remote_best[program.island]
            if any(hash(b.code) == hash(program.code) for b in best):
                continue
            best.append(program)
            best.sort(key=lambda p: -float(p.score or 0.0))
            del best[REMOTE_TOP:]
