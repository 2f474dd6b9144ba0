"""Parent selectors: every shipped one passes the conformance kit, and a selector
registered from outside the package runs the loop with its own args."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support_search import run_problem, vector_problem

from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.problem import load_problem
from evolve.search.population import Population
from evolve.search.selectors import PARENT_SELECTORS, ParentSelector, PopulationView
from evolve.testing.selector_kit import ParentSelectorConformance


class TestExplore(ParentSelectorConformance):
    selector = "explore"


class TestExploit(ParentSelectorConformance):
    selector = "exploit"
    args = {"size": 5}


class TestElite(ParentSelectorConformance):
    selector = "elite"


class TestPareto(ParentSelectorConformance):
    selector = "pareto"


def test_every_shipped_selector_has_a_conformance_test() -> None:
    tested = {cls.selector for cls in ParentSelectorConformance.__subclasses__()}
    assert set(PARENT_SELECTORS.names()) <= tested


class Youngest(ParentSelector):
    """A selector from outside the package: the island's latest valid program but one
    in ``every`` draws, which takes the oldest; it remembers every parent it handed out."""

    handed_out: list[str] = []

    def __init__(self, every: int = 3) -> None:
        self.every = every
        self.draws = 0

    def select(
        self, island: int, population: PopulationView, rng: random.Random
    ) -> ProgramRecord | None:
        valid = population.island(island).valid_ids
        if not valid:
            return None
        self.draws += 1
        chosen = population.get(valid[0] if self.draws % self.every == 0 else valid[-1])
        Youngest.handed_out.append(chosen.id)
        return chosen


class TestYoungest(ParentSelectorConformance):
    selector = f"{__name__}:Youngest"
    args = {"every": 2}


def test_a_selector_from_outside_runs_the_loop_with_its_args(tmp_path: Path) -> None:
    PARENT_SELECTORS.register("youngest", Youngest)
    Youngest.handed_out.clear()
    folder = vector_problem(tmp_path)
    overrides = [
        "budget.iterations=8",
        "evaluation.workers=1",
        "llm.concurrency=1",
        "database.num_islands=1",
        "database.parent_selection=[{name: youngest, weight: 1, args: {every: 4}}]",
    ]
    run, _ = run_problem(folder, tmp_path, overrides)
    children = [p for p in run.store.programs(run.run_id) if p.origin == "llm"]
    assert len(children) == 8
    # Every child was written from the parent the selector handed out, in order.
    assert [c.parent_id for c in children] == Youngest.handed_out


def test_selector_args_are_checked_against_its_signature(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    problem = load_problem(
        folder, overrides=["database.parent_selection=[{name: exploit, args: {sise: 4}}]"]
    )
    with pytest.raises(UserError) as caught:
        Population(problem.config.database, 0)
    assert caught.value.where == "database.parent_selection[0].args.sise"
    assert "did you mean 'size'" in caught.value.message
    problem = load_problem(folder, overrides=["database.parent_selection=[{name: best}]"])
    with pytest.raises(UserError) as caught:
        Population(problem.config.database, 0)
    assert caught.value.where == "database.parent_selection[0].name"
