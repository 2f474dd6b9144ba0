"""Who owns which islands of a shared run: the ``controllers`` table.

A controller registers the islands it works on; claiming islands that a live
controller (a heartbeat within ``STALE_AFTER_S``) holds is refused, so two controllers
never write the same island.
"""

from __future__ import annotations

import os
import socket
import time

from sqlalchemy import select, update

from evolve.database.models import controllers_table, runs_table
from evolve.database.records import new_id
from evolve.database.store import Store
from evolve.errors import UserError

STALE_AFTER_S = 300.0  # a controller silent this long is presumed dead; its islands are free
HEARTBEAT_EVERY_S = 30.0


class IslandClaim:
    """This controller's row in the ``controllers`` table."""

    def __init__(self, store: Store, run_id: str, islands: list[int]) -> None:
        self.store = store
        self.run_id = run_id
        self.islands = list(islands)
        self.id = new_id()
        self._last_heartbeat = 0.0

    def claim(self) -> None:
        """Register as the owner of ``islands``; refuse islands a live controller holds."""
        now = time.time()
        table = controllers_table.c
        with self.store.engine.begin() as conn:
            # Lock the run row so two controllers claiming at once are serialised
            # (PostgreSQL; SQLite's BEGIN IMMEDIATE already is).
            conn.execute(
                select(runs_table.c.id).where(runs_table.c.id == self.run_id).with_for_update()
            )
            rows = conn.execute(
                select(controllers_table).where(
                    table.run_id == self.run_id,
                    table.released_at.is_(None),
                    table.heartbeat_at > now - STALE_AFTER_S,
                )
            ).all()
            for row in rows:
                taken = sorted(set(row.islands) & set(self.islands))
                if taken:
                    raise UserError(
                        f"islands {taken} of run {self.run_id} are owned by a live controller "
                        f"({row.host}, pid {row.pid}); choose other islands",
                        "database.islands_owned",
                    )
            conn.execute(
                controllers_table.insert().values(
                    id=self.id,
                    run_id=self.run_id,
                    islands=self.islands,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=now,
                    heartbeat_at=now,
                    released_at=None,
                )
            )
        self._last_heartbeat = now

    def release(self) -> None:
        self._touch(released_at=time.time())

    def heartbeat(self) -> None:
        if time.time() - self._last_heartbeat >= HEARTBEAT_EVERY_S:
            self._touch()

    def _touch(self, **values: float) -> None:
        now = time.time()
        with self.store.engine.begin() as conn:
            conn.execute(
                update(controllers_table)
                .where(controllers_table.c.id == self.id)
                .values(heartbeat_at=now, **values)
            )
        self._last_heartbeat = now
