"""Per-island search structures and the global elite archive.

Everything here is bounded or append-only so that adding or sampling costs the same
at 100 programs as at 100,000: a grid of at most ``bins ** dims`` cell elites, a short
sorted list of leaders, a bounded failure deque, an append-only list of valid ids
(uniform sampling in O(1)).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from evolve.database.records import ProgramRecord
from evolve.search.features import DiversityReference, FeatureSpace

# (-score, insertion seq, id): sorts best first, earlier program first on ties.
RankKey = tuple[float, int, str]


@dataclass
class IslandStats:
    island: int
    programs: int  # everything added to the island, valid or not
    valid: int
    cells: int  # MAP-Elites cells occupied
    best_score: float | None
    children: int  # "llm" children completed on this island (its iterations)


class Island:
    def __init__(self, index: int, leaders_size: int, failures_size: int) -> None:
        self.index = index
        self.size = 0
        self.children = 0
        self.valid_ids: list[str] = []
        self.leaders: list[RankKey] = []
        self.leaders_size = max(1, leaders_size)
        self.failures: deque[str] = deque(maxlen=max(1, failures_size))
        self.grid: dict[tuple[int, ...], RankKey] = {}
        self.cells: list[tuple[int, ...]] = []  # grid keys, indexable for O(1) random picks
        self.code_hashes: set[int] = set()  # what code lives here (migration skips duplicates)
        self.reference = DiversityReference()

    def add_ranked(self, key: RankKey, cell: tuple[int, ...]) -> None:
        self.valid_ids.append(key[2])
        bisect.insort(self.leaders, key)
        if len(self.leaders) > self.leaders_size:
            self.leaders.pop()
        self.place(key, cell)

    def place(self, key: RankKey, cell: tuple[int, ...]) -> bool:
        """Put ``key`` in ``cell`` if the cell is empty or its occupant ranks lower."""
        occupant = self.grid.get(cell)
        if occupant is None:
            self.cells.append(cell)
        elif occupant <= key:
            return False
        self.grid[cell] = key
        return True

    def rebin(self, space: FeatureSpace, features_of: Callable[[str], dict[str, float]]) -> None:
        """Re-place the current cell elites after the bin boundaries moved."""
        elites = sorted(self.grid.values())
        self.grid.clear()
        self.cells.clear()
        for key in elites:
            self.place(key, space.cell(features_of(key[2])))

    def elites(self) -> list[RankKey]:
        return sorted(self.grid.values())

    def stats(self) -> IslandStats:
        return IslandStats(
            island=self.index,
            programs=self.size,
            valid=len(self.valid_ids),
            cells=len(self.grid),
            best_score=-self.leaders[0][0] if self.leaders else None,
            children=self.children,
        )


class EliteArchive:
    """The best ``size`` programs over all islands, one per distinct code text."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self.entries: list[RankKey] = []
        self._codes: dict[int, str] = {}  # code hash -> id of the archived program
        self._code_of: dict[str, int] = {}

    def offer(self, key: RankKey, code_hash: int) -> bool:
        if code_hash in self._codes:
            return False
        if len(self.entries) >= self.size and key >= self.entries[-1]:
            return False
        bisect.insort(self.entries, key)
        self._codes[code_hash] = key[2]
        self._code_of[key[2]] = code_hash
        if len(self.entries) > self.size:
            evicted = self.entries.pop()
            del self._codes[self._code_of.pop(evicted[2])]
        return True

    def ids(self) -> list[str]:
        return [key[2] for key in self.entries]


def rank_key(program: ProgramRecord, seq: int) -> RankKey:
    assert program.score is not None
    return (-float(program.score), seq, program.id)


def is_ranked(program: ProgramRecord) -> bool:
    """Valid with a finite score: only these compete for cells, leaders and the archive."""
    return program.valid and program.score is not None and math.isfinite(float(program.score))
