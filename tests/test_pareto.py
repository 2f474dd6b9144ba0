"""Per-instance Pareto fronts (GEPA-style parent selection): unit and through the loop."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from support_search import run_problem, vector_problem

from evolve.config import DatabaseConfig, SelectorSpec, load_config
from evolve.database.records import ProgramRecord
from evolve.errors import UserError
from evolve.search.pareto import COMBINED, ParetoFronts, instance_scores
from evolve.search.population import Population
from evolve.search.selectors import ParetoSelector


def test_fronts_keep_per_instance_winners_and_prune_dominated() -> None:
    fronts = ParetoFronts()
    fronts.add("generalist", {"a": 0.8, "b": 0.8})
    fronts.add("specialist", {"a": 0.9, "b": 0.1})  # best on a only
    fronts.add("dominated", {"a": 0.5, "b": 0.5})  # best on nothing
    assert set(fronts.weights()) == {"generalist", "specialist"}
    assert fronts.weights() == {"generalist": 1, "specialist": 1}
    fronts.add("tie", {"a": 0.9, "b": 0.1})  # ties the specialist exactly: both stay
    assert fronts.weights() == {"generalist": 1, "specialist": 1, "tie": 1}
    fronts.add("better", {"a": 0.95, "b": 0.85})  # wins everything: the others leave the fronts
    assert fronts.weights() == {"better": 2}
    assert len(fronts) == 1


def test_a_program_tied_on_one_front_but_dominated_is_pruned() -> None:
    fronts = ParetoFronts()
    fronts.add("x", {"a": 1.0, "b": 0.2})
    fronts.add("y", {"a": 1.0, "b": 0.3, "c": 0.0})  # same on a, better on b: x is dominated
    weights = fronts.weights()
    assert "x" not in weights and weights["y"] == 3


def test_sampling_is_proportional_to_front_counts() -> None:
    fronts = ParetoFronts()
    fronts.add("wide", {"a": 1.0, "b": 1.0, "c": 1.0, "d": 0.0})
    fronts.add("narrow", {"a": 0.0, "b": 0.0, "c": 0.0, "d": 1.0})
    rng = random.Random(0)
    picks = [fronts.sample(rng) for _ in range(4000)]
    share = picks.count("wide") / len(picks)
    assert 0.70 < share < 0.80  # 3 fronts of 4


def test_programs_without_instances_use_their_score() -> None:
    assert instance_scores({}, 0.5) == {COMBINED: 0.5}
    assert instance_scores({"a": 1, "b": float("nan"), "c": "x"}, 0.5) == {"a": 1.0}


def _record(pid: str, score: float, instances: dict[str, float], island: int = 0) -> ProgramRecord:
    return ProgramRecord(id=pid, run_id="r", code=f"x = {pid!r}\n", island=island, valid=True, score=score,
                         instances=instances, origin="llm", iteration=1)


def test_database_pareto_mode_samples_the_specialist_that_exploit_ignores() -> None:
    cfg = DatabaseConfig(num_islands=1, parent_selection=[SelectorSpec("pareto")],
                         num_diverse_inspirations=0, feature_dimensions=[])
    db = Population(cfg, seed=1)
    db.add(_record("generalist", 0.8, {"a": 0.8, "b": 0.8}))
    db.add(_record("specialist", 0.5, {"a": 0.1, "b": 0.9}))
    db.add(_record("dominated", 0.4, {"a": 0.4, "b": 0.4}))
    samples = [db.sample_detailed(0) for _ in range(200)]
    assert {s.mode for s in samples} == {"pareto"}
    parents = {s.parent.id for s in samples}
    assert parents == {"generalist", "specialist"}
    # A rebuild from the stored order gives the same fronts.
    again = Population(cfg, seed=1)
    again.rebuild(list(db.programs()))
    fronts, rebuilt = db.selection.selectors[0], again.selection.selectors[0]
    assert isinstance(fronts, ParetoSelector) and isinstance(rebuilt, ParetoSelector)
    assert rebuilt.fronts[0].weights() == fronts.fronts[0].weights()


def test_pareto_is_an_ordinary_weighted_selector() -> None:
    cfg = load_config({"database": {"parent_selection": [
        {"name": "exploit", "weight": 0.7}, {"name": "pareto", "weight": 0.3}]}})
    assert [(s.name, s.weight) for s in cfg.database.parent_selection] == [
        ("exploit", 0.7), ("pareto", 0.3)]
    # The ratio keys of earlier versions name what replaced them.
    with pytest.raises(UserError, match="replaced by database.parent_selection") as caught:
        load_config({"database": {"pareto_ratio": 0.3}})
    assert caught.value.where.endswith("database.pareto_ratio")


def _parents_on_a_front(programs: list[ProgramRecord]) -> tuple[int, int]:
    """Replay the stored order: how many llm children had a parent that was ever on a front."""
    fronts: dict[int, ParetoFronts] = {}
    ever: set[str] = set()
    hits = total = 0
    for program in programs:
        if program.origin == "llm":
            total += 1
            hits += program.parent_id in ever
        if program.valid and program.score is not None:
            island = fronts.setdefault(program.island, ParetoFronts())
            island.add(program.id, instance_scores(program.instances, program.score))
            ever.update(island.weights())
    return hits, total


def test_pareto_parents_through_the_loop(tmp_path: Path) -> None:
    folder = vector_problem(tmp_path)
    common = ["budget.iterations=40", "evaluation.workers=1", "llm.concurrency=1", "database.num_islands=2",
              "database.migration_interval=0"]
    pareto = common + ["database.parent_selection=[{name: pareto}]"]
    run, _ = run_problem(folder, tmp_path / "p", pareto)
    programs = list(run.store.programs(run.run_id))
    hits, total = _parents_on_a_front(programs)
    assert total == 40 and hits == total
    assert all(p.instances for p in programs if p.valid)
    # Control: uniform parents from the island often pick programs that were never on a front.
    explore = common + ["database.parent_selection=[{name: explore}]"]
    run2, _ = run_problem(folder, tmp_path / "e", explore)
    hits2, total2 = _parents_on_a_front(list(run2.store.programs(run2.run_id)))
    assert total2 == 40 and hits2 < total2
