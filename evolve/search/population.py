"""``Population``: the in-memory search state (islands, MAP-Elites, elite archive).

The Store is the durable truth; this is an index over it, rebuilt from stored records
on resume (``rebuild``), and it never scans the whole population per iteration.

Island rule: the controller asks ``next_island()`` which island to work on, samples
that island, and gives the child ``island=`` that same island. Every parent selector
(see ``selectors.py``) picks from that island, so a child always lands on its parent's
island and every island advances at the same rate. Code spreads between islands only
by migration, which copies elites (never moves them).

Order rule: add each program here before (or right before) storing it, in the same
order, so that ``rebuild`` from the stored order reproduces this state exactly and
stored records carry their feature values.

Tuning trials (origin "tune") join their parent's island only when they beat the
parent and every earlier trial of the same study; the others are stored, not indexed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from evolve.config import DatabaseConfig
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.search.features import FeatureSpace, code_tokens
from evolve.search.islands import EliteArchive, Island, IslandStats, is_ranked, rank_key
from evolve.search.migration import plan_migration
from evolve.search.selectors import create_selectors


@dataclass
class Sample:
    island: int
    parent: ProgramRecord
    inspirations: list[ProgramRecord]
    failures: list[ProgramRecord]
    # the parent selector's name ("explore", "exploit", ...), "explore"/"elite" when it had
    # no candidate and the fallback picked, "fallback" when no valid program exists yet
    mode: str


@dataclass
class DatabaseStats:
    islands: list[IslandStats]
    programs: int
    valid: int
    archive: int
    best_score: float | None


class Population:
    def __init__(self, cfg: DatabaseConfig, seed: int) -> None:
        self.cfg = cfg
        self.seed = seed
        self._reset(random.Random(seed))

    def _reset(self, rng: random.Random) -> None:
        cfg = self.cfg
        self.rng = rng
        self.space = FeatureSpace(cfg.feature_dimensions, cfg.feature_bins)
        leaders = 2 * (cfg.num_top_inspirations + 1) + 2  # room to skip parent/duplicates
        self.islands = [
            Island(i, leaders_size=leaders, failures_size=cfg.num_failures)
            for i in range(cfg.num_islands)
        ]
        self.archive = EliteArchive(cfg.archive_size)
        self.selection = create_selectors(cfg.parent_selection)  # fresh state on rebuild
        self._programs: dict[str, ProgramRecord] = {}
        self._seq: dict[str, int] = {}
        self._first_id: str | None = None
        self._issued = [0] * cfg.num_islands  # islands handed out by next_island()
        self._max_iteration = 0
        self._valid = 0
        self._next_migration_at = max(cfg.migration_interval, 1)
        self._study_best: dict[str, float | None] = {}  # tuned program id -> best trial score

    # ------------------------------------------------------------------ adding

    def add(self, program: ProgramRecord) -> bool:
        """Index a program (valid or not); False if its id is already indexed.

        Missing feature values are filled into ``program.features`` in place, so a
        program stored after being added here carries them.
        """
        if program.id in self._programs:
            return False
        if program.origin == "tune" and not self._improves_study(program):
            return True  # stored as a trial of its study, not a member of the island
        if not 0 <= program.island < len(self.islands):
            raise UserError(
                f"program {program.id} is on island {program.island} but there are "
                f"{len(self.islands)} islands",
                "database.num_islands",
            )
        seq = len(self._seq)
        self._programs[program.id] = program
        self._seq[program.id] = seq
        self._first_id = self._first_id or program.id
        self._max_iteration = max(self._max_iteration, program.iteration)
        island = self.islands[program.island]
        island.size += 1
        island.code_hashes.add(hash(program.code))
        if program.origin == "llm":
            island.children += 1
        if not is_ranked(program):
            island.failures.append(program.id)
            self.selection.observe(program)
            return True
        self._valid += 1
        tokens = _LazyTokens(program.code)  # tokenising is the costly part: only on demand
        self.space.complete(program, tokens, island.reference)
        if self.space.uses_diversity:
            island.reference.observe(tokens)
        if self.space.observe(program.features):
            for each in self.islands:
                each.rebin(self.space, self._features_of)
        key = rank_key(program, seq)
        island.add_ranked(key, self.space.cell(program.features))
        self.archive.offer(key, hash(program.code))
        self.selection.observe(program)
        return True

    def _improves_study(self, trial: ProgramRecord) -> bool:
        """Whether a tuning trial beats its parent and every earlier trial of its study.

        Only those enter the island: a study's other trials are near-copies of the parent
        (its code with other constants) and would crowd out leaders, inspirations and
        the failures shown in prompts."""
        study = trial.parent_id or ""
        best = self._study_best.get(study)
        parent = self._programs.get(study)
        if best is None and parent is not None and is_ranked(parent):
            best = parent.score
        if not is_ranked(trial) or (best is not None and (trial.score or 0.0) <= best):
            return False
        self._study_best[study] = trial.score
        return True

    def rebuild(self, programs: Iterable[ProgramRecord]) -> None:
        """Re-create the state from stored records (in their stored order)."""
        self._reset(self.rng)
        for program in programs:
            if program.origin == "migration" and self.should_migrate():
                self._schedule_next_migration()  # the stored copies of a round that was due
            self.add(program)
        # Resumed runs continue deterministically but not on the uninterrupted RNG stream.
        self.rng = random.Random(f"{self.seed}:{len(self._programs)}")
        self._issued = [island.children for island in self.islands]
        # A round that was due but never stored (the run was killed in between) stays due,
        # so the resumed run catches it up instead of skipping it.

    # ------------------------------------------------------------------ sampling

    def next_island(self) -> int:
        """The island with the fewest iterations handed out (round-robin from equal counts)."""
        island = min(range(len(self._issued)), key=self._issued.__getitem__)
        self._issued[island] += 1
        return island

    def sample(self, island: int) -> tuple[ProgramRecord, list[ProgramRecord], list[ProgramRecord]]:
        """Parent, inspirations and recent failures for a child that will live on ``island``."""
        chosen = self.sample_detailed(island)
        return chosen.parent, chosen.inspirations, chosen.failures

    def sample_detailed(self, island: int) -> Sample:
        if not self._programs:
            raise ValueError("the population is empty: add the initial program(s) first")
        home = self.islands[island]
        mode, selector = self.selection.draw(self.rng)
        parent = selector.select(island, self, self.rng)
        if parent is None:
            parent, mode = self._fallback(home)
        return Sample(
            island=island,
            parent=parent,
            inspirations=self._inspirations(home, parent),
            failures=[self._programs[pid] for pid in reversed(home.failures)][
                : self.cfg.num_failures
            ],
            mode=mode,
        )

    def _fallback(self, home: Island) -> tuple[ProgramRecord, str]:
        """A parent when the drawn selector had none: any valid program of the island."""
        if home.valid_ids:
            return self._programs[self.rng.choice(home.valid_ids)], "explore"
        if home.size == 0 and self.archive.entries:  # an empty island starts from the archive
            return self._programs[self.rng.choice(self.archive.entries)[2]], "elite"
        fallback = home.failures[-1] if home.failures else self._first_id
        assert fallback is not None
        return self._programs[fallback], "fallback"

    def _inspirations(self, home: Island, parent: ProgramRecord) -> list[ProgramRecord]:
        chosen: list[ProgramRecord] = []
        seen_codes = {hash(parent.code)}

        def take(program_id: str) -> bool:
            program = self._programs[program_id]
            if program.id == parent.id or hash(program.code) in seen_codes:
                return False
            seen_codes.add(hash(program.code))
            chosen.append(program)
            return True

        top = 0
        for key in home.leaders:
            if top >= self.cfg.num_top_inspirations:
                break
            top += take(key[2])
        wanted = self.cfg.num_diverse_inspirations
        if wanted > 0 and home.cells:
            parent_cell = self.space.cell(parent.features) if is_ranked(parent) else None
            draws = min(len(home.cells), wanted + len(chosen) + 2)
            for index in self.rng.sample(range(len(home.cells)), draws):
                if wanted == 0:
                    break
                cell = home.cells[index]
                if cell != parent_cell and take(home.grid[cell][2]):
                    wanted -= 1
        return chosen

    # ------------------------------------------------------------------ migration

    def should_migrate(self) -> bool:
        """True once every island has completed ``migration_interval`` more iterations."""
        if len(self.islands) < 2 or self.cfg.migration_interval <= 0:
            return False
        return self._min_children() >= self._next_migration_at

    def migrate(self, new_id: Callable[[], str]) -> list[ProgramRecord]:
        """Copy each island's top elites to the next island; the copies are added here
        already and returned so the caller can store them (in the returned order)."""
        copies = plan_migration(
            self.islands,
            self._programs.__getitem__,
            self.cfg.migration_rate,
            new_id,
            self._max_iteration,
        )
        for copy in copies:
            self.add(copy)
        self._schedule_next_migration()
        return copies

    def _schedule_next_migration(self) -> None:
        interval = max(self.cfg.migration_interval, 1)
        self._next_migration_at = (self._min_children() // interval + 1) * interval

    # ------------------------------------------------------------------ queries

    def best(self) -> ProgramRecord | None:
        return self._programs[self.archive.entries[0][2]] if self.archive.entries else None

    def island_best(self, island: int) -> ProgramRecord | None:
        leaders = self.islands[island].leaders
        return self._programs[leaders[0][2]] if leaders else None

    def get(self, program_id: str) -> ProgramRecord:
        return self._programs[program_id]

    def island(self, index: int) -> Island:
        return self.islands[index]

    def programs(self) -> Iterator[ProgramRecord]:
        """Every indexed program, in the order it was added."""
        return iter(self._programs.values())

    def __contains__(self, program_id: object) -> bool:
        return program_id in self._programs

    def __len__(self) -> int:
        return len(self._programs)

    def stats(self) -> DatabaseStats:
        best = self.best()
        return DatabaseStats(
            islands=[island.stats() for island in self.islands],
            programs=len(self._programs),
            valid=self._valid,
            archive=len(self.archive.entries),
            best_score=best.score if best is not None else None,
        )

    def _features_of(self, program_id: str) -> dict[str, float]:
        return self._programs[program_id].features

    def _min_children(self) -> int:
        return min(island.children for island in self.islands)


class _LazyTokens:
    """The code's token set, computed at most once and only if asked for."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.value: frozenset[str] | None = None

    def __call__(self) -> frozenset[str]:
        if self.value is None:
            self.value = code_tokens(self.code)
        return self.value
