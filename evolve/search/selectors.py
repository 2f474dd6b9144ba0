"""Parent selection: which program of an island the next child is written from.

A strategy is a :class:`ParentSelector`: one required method, ``select``, and one
optional hook, ``observe``. ``database.parent_selection`` lists the strategies an
island samples with, each with a weight and its own ``args``; every iteration draws one
strategy by weight and asks it for a parent.

Call order, per population (one per controller):

1. the selector is built from its registry name with its ``args`` (``create_selectors``);
2. ``observe(program)`` once for every program added, valid or not, in stored order;
   on resume the population is rebuilt from the store in that same order, so any index
   a selector keeps is reproduced exactly;
3. ``select(island, population, rng)`` each time the selector is drawn.

Rules every selector keeps (``evolve.testing.selector_kit`` checks them): pick only a
valid program of ``island`` (a child always lands on its parent's island); draw
randomness only from ``rng`` (the population's seeded stream, so runs reproduce);
never change the population; return None when it has no candidate, and the population
falls back to a uniform pick among the island's valid programs.

A new strategy is one class plus ``PARENT_SELECTORS.register(name, factory)`` (or an
entry point in the ``evolve.parent_selectors`` group, or ``module:attr`` in the config).
"""

from __future__ import annotations

import abc
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from evolve.config import SelectorSpec
from evolve.database.records import ProgramRecord
from evolve.registry import Registry
from evolve.search.islands import EliteArchive, Island, is_ranked
from evolve.search.pareto import ParetoFronts, instance_scores


class PopulationView(Protocol):
    """What a selector may read of the population."""

    archive: EliteArchive

    def island(self, index: int) -> Island: ...

    def get(self, program_id: str) -> ProgramRecord: ...


class ParentSelector(abc.ABC):
    """Base of parent-selection strategies (see the module docstring for the call order)."""

    @abc.abstractmethod
    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        """A valid program of ``island`` to write the next child from, or None."""

    def observe(self, program: ProgramRecord) -> None:  # noqa: B027 - optional hook
        """Called for every program added to the population, in stored order."""


class UniformSelector(ParentSelector):
    """ "explore": any valid program of the island, uniformly."""

    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        home = population.island(island)
        return population.get(rng.choice(home.valid_ids)) if home.valid_ids else None


class TournamentSelector(ParentSelector):
    """ "exploit": the best of ``size`` random MAP-Elites cell elites of the island."""

    def __init__(self, size: int = 3) -> None:
        self.size = max(1, int(size))

    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        home = population.island(island)
        if not home.cells:
            return None
        picks = rng.sample(range(len(home.cells)), min(self.size, len(home.cells)))
        return population.get(min(home.grid[home.cells[i]] for i in picks)[2])


class ArchiveSelector(ParentSelector):
    """ "elite": one of the island's members of the global elite archive."""

    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        entries = population.archive.entries
        local = [key for key in entries if population.get(key[2]).island == island]
        return population.get(rng.choice(local)[2]) if local else None


class ParetoSelector(ParentSelector):
    """ "pareto": a program on the island's per-instance Pareto fronts (GEPA), drawn in
    proportion to how many instance fronts it sits on (see ``pareto.py``)."""

    def __init__(self) -> None:
        self.fronts: dict[int, ParetoFronts] = {}

    def observe(self, program: ProgramRecord) -> None:
        if is_ranked(program):
            fronts = self.fronts.setdefault(program.island, ParetoFronts())
            fronts.add(program.id, instance_scores(program.instances, program.score))

    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        fronts = self.fronts.get(island)
        chosen = fronts.sample(rng) if fronts is not None else None
        return population.get(chosen) if chosen is not None else None


PARENT_SELECTORS: Registry[ParentSelector] = Registry(
    "parent selector", entry_point_group="evolve.parent_selectors"
)
PARENT_SELECTORS.register("explore", UniformSelector)
PARENT_SELECTORS.register("exploit", TournamentSelector)
PARENT_SELECTORS.register("elite", ArchiveSelector)
PARENT_SELECTORS.register("pareto", ParetoSelector)


@dataclass
class WeightedSelection:
    """The selectors of ``database.parent_selection`` and the draw between them."""

    names: list[str]
    selectors: list[ParentSelector]
    bounds: list[float]  # cumulative weights, the last one the total

    def draw(self, rng: random.Random) -> tuple[str, ParentSelector]:
        point = rng.random() * self.bounds[-1]
        for name, selector, bound in zip(self.names, self.selectors, self.bounds, strict=True):
            if point < bound:
                return name, selector
        return self.names[-1], self.selectors[-1]

    def __post_init__(self) -> None:
        # Only selectors that keep an index are told about every program added.
        self._observers = [
            s for s in self.selectors if type(s).observe is not ParentSelector.observe
        ]

    def observe(self, program: ProgramRecord) -> None:
        for selector in self._observers:
            selector.observe(program)


def create_selectors(specs: Sequence[SelectorSpec]) -> WeightedSelection:
    """Build every selector of ``database.parent_selection`` (UserError naming the item)."""
    names, selectors, bounds, total = [], [], [], 0.0
    for index, spec in enumerate(specs):
        where = f"database.parent_selection[{index}]"
        selector = PARENT_SELECTORS.create(spec.name, spec.args, where)
        if not isinstance(selector, ParentSelector):
            raise PARENT_SELECTORS.wrong_type(spec.name, "ParentSelector", where)
        total += float(spec.weight)
        names.append(spec.name)
        selectors.append(selector)
        bounds.append(total)
    return WeightedSelection(names, selectors, bounds)
