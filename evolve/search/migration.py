"""Ring migration between islands: copies of each island's best cell elites.

Every ``migration_interval`` iterations per island, the top ``migration_rate``
fraction (at least one) of each island's cell elites is copied to the next island in
the ring. Copies are new programs (new id, origin "migration", parent = the source),
so the source island keeps its elites and lineage shows where a program came from.
Code that already lives on the destination island is not copied again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from evolve.database.records import ProgramRecord
from evolve.search.islands import Island


def migrants_per_island(elites: int, rate: float) -> int:
    if elites == 0:
        return 0
    return min(elites, max(1, math.floor(rate * elites + 1e-9)))


def plan_migration(
    islands: Sequence[Island],
    program_of: Callable[[str], ProgramRecord],
    rate: float,
    new_id: Callable[[], str],
    iteration: int,
) -> list[ProgramRecord]:
    """The copies one migration round makes, computed from the state before any lands.

    Planning everything first keeps a program from travelling two hops in one round.
    """
    if len(islands) < 2:
        return []
    copies: list[ProgramRecord] = []
    for source in islands:
        destination = islands[(source.index + 1) % len(islands)]
        planned: set[int] = set()
        elites = source.elites()
        for key in elites[: migrants_per_island(len(elites), rate)]:
            original = program_of(key[2])
            code_hash = hash(original.code)
            if code_hash in destination.code_hashes or code_hash in planned:
                continue
            planned.add(code_hash)
            copies.append(migrant(original, destination.index, new_id(), iteration))
    return copies


def migrant(original: ProgramRecord, island: int, program_id: str, iteration: int) -> ProgramRecord:
    """A copy of ``original`` living on ``island``; features are recomputed there."""
    return ProgramRecord(
        id=program_id,
        run_id=original.run_id,
        code=original.code,
        parent_id=original.id,
        island=island,
        generation=original.generation,
        iteration=iteration,
        valid=original.valid,
        score=original.score,
        metrics=dict(original.metrics),
        instances=dict(original.instances),
        holdout=dict(original.holdout),
        artifacts=dict(original.artifacts),
        reason=original.reason,
        features={},
        origin="migration",
        model=original.model,
        changed_lines=0,
        eval_s=0.0,
        files=dict(original.files),
        created_at=time.time(),
    )
