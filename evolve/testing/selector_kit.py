"""Conformance suite for parent selectors: every shipped selector's test inherits it.

    from evolve.testing.selector_kit import ParentSelectorConformance

    class TestMySelector(ParentSelectorConformance):
        selector = "mypkg.selection:MySelector"   # registry name or module:attr
        args = {"size": 4}                        # its own settings

The population it tests against has several islands, invalid programs among the valid
ones, MAP-Elites features and per-instance scores, so every built-in index is exercised.
A failed check raises ``AssertionError`` saying which rule broke (see the rules in
``evolve.search.selectors``).
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from evolve.config import DatabaseConfig, SelectorSpec
from evolve.database.records import ProgramRecord, new_id
from evolve.search.population import Population
from evolve.search.selectors import PARENT_SELECTORS, ParentSelector

ISLANDS = 3
WORDS = ["load", "slot", "rank", "cost", "node", "queue", "route", "chunk"]


def kit_programs(seed: int = 7, per_island: int = 30) -> list[ProgramRecord]:
    """Programs of varied code, score and validity, with per-instance scores."""
    rng = random.Random(seed)
    programs = []
    for index in range(per_island * ISLANDS):
        valid = index % 5 != 2
        lines = [
            f"    {rng.choice(WORDS)}_{rng.randrange(40)} = {rng.randrange(1000)}"
            for _ in range(rng.randrange(1, 25))
        ]
        score = rng.uniform(0, 10) if valid else None
        programs.append(
            ProgramRecord(
                id=new_id(),
                run_id="kit",
                code="def f(x):\n" + "\n".join(lines) + "\n    return x\n",
                island=index % ISLANDS,
                iteration=index,
                valid=valid,
                score=score,
                instances={f"w{i}": rng.random() for i in range(3)} if valid else {},
                reason="" if valid else f"failure {index}",
                origin="llm" if index >= ISLANDS else "initial",
            )
        )
    return programs


class ParentSelectorConformance:
    """Set ``selector`` (and ``args``) in the subclass; pytest collects the ``test_`` methods."""

    selector: ClassVar[str] = ""
    args: ClassVar[dict[str, Any]] = {}

    def config(self) -> DatabaseConfig:
        return DatabaseConfig(
            num_islands=ISLANDS,
            parent_selection=[SelectorSpec(self.selector, 1.0, dict(self.args))],
        )

    def population(self, programs: list[ProgramRecord], seed: int = 0) -> Population:
        population = Population(self.config(), seed)
        population.rebuild(programs)
        return population

    def picks(self, population: Population, rounds: int = 60) -> list[tuple[int, str | None]]:
        """(island, chosen id or None) of ``rounds`` direct calls to the selector."""
        selector = population.selection.selectors[0]
        chosen = []
        for round_ in range(rounds):
            island = round_ % ISLANDS
            parent = selector.select(island, population, population.rng)
            chosen.append((island, parent.id if parent is not None else None))
        return chosen

    def test_it_is_built_from_the_registry_with_its_args(self) -> None:
        built = PARENT_SELECTORS.create(self.selector, self.args, "kit")
        assert isinstance(built, ParentSelector), "a selector must subclass ParentSelector"

    def test_it_picks_only_valid_programs_of_the_requested_island(self) -> None:
        population = self.population(kit_programs())
        picked = [(island, pid) for island, pid in self.picks(population, 120) if pid is not None]
        assert picked, "on islands full of valid programs the selector never picked one"
        for island, pid in picked:
            parent = population.get(pid)
            assert parent.island == island, "a parent must live on the island being sampled"
            assert parent.valid and parent.score is not None, "a parent must be valid"

    def test_the_same_seed_gives_the_same_picks(self) -> None:
        programs = kit_programs()
        assert self.picks(self.population(programs, 3)) == self.picks(
            self.population(programs, 3)
        ), "randomness must come only from the rng it is given"

    def test_a_rebuild_from_the_stored_order_reproduces_the_picks(self) -> None:
        programs = kit_programs()
        live = Population(self.config(), 5)
        for program in programs:
            live.add(program)
        live.rng = random.Random("kit")
        resumed = self.population(programs, 5)
        resumed.rng = random.Random("kit")
        assert self.picks(live) == self.picks(resumed), (
            "state kept from observe() must be reproduced by a rebuild"
        )

    def test_it_does_not_change_the_population(self) -> None:
        population = self.population(kit_programs())
        before = population.stats()
        archive = list(population.archive.entries)
        self.picks(population)
        assert population.stats() == before and population.archive.entries == archive, (
            "select() must only read the population"
        )

    def test_an_island_without_valid_programs_gets_none_or_a_valid_program(self) -> None:
        population = self.population([p for p in kit_programs() if p.island or not p.valid])
        for island, pid in self.picks(population, 30):
            if island == 0:
                assert pid is None, "an island with only failures has no valid parent"

    def test_the_loop_falls_back_when_it_has_no_candidate(self) -> None:
        population = self.population([p for p in kit_programs() if not p.valid or p.island])
        sample = population.sample_detailed(0)
        assert sample.parent.island == 0 or sample.mode == "elite", (
            "with no candidate the population's fallback picks the parent"
        )
