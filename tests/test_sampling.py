"""Parent/inspiration/failure sampling: seeded, weight-respecting, island-local."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from support_database import db_config, make_program, random_code, selection

from evolve.search.population import Population


def populated(
    seed: int = 0, islands: int = 3, per_island: int = 60, **cfg: object
) -> Population:
    db = Population(db_config(num_islands=islands, **cfg), seed=seed)
    rng = random.Random(1234)
    for i in range(per_island * islands):
        valid = i % 7 != 3
        db.add(
            make_program(
                code=random_code(rng),
                island=i % islands,
                valid=valid,
                score=rng.uniform(0, 10) if valid else None,
                reason="" if valid else f"failure {i}",
            )
        )
    return db


def sample_trace(db: Population, rounds: int) -> list[tuple[str, str, tuple[str, ...]]]:
    trace = []
    for _ in range(rounds):
        island = db.next_island()
        chosen = db.sample_detailed(island)
        trace.append((chosen.mode, chosen.parent.id, tuple(p.id for p in chosen.inspirations)))
    return trace


def test_sampling_is_deterministic_for_a_fixed_seed() -> None:
    # the same programs (ids included) go into three databases; two share a seed
    programs_db = populated(seed=5)
    records = list(programs_db.programs())
    first, second, other = (Population(programs_db.cfg, seed=s) for s in (5, 5, 6))
    for db in (first, second, other):
        for record in records:
            db.add(record)
    assert sample_trace(first, 200) == sample_trace(second, 200)
    assert sample_trace(first, 200) != sample_trace(other, 200)


def test_sampling_modes_follow_the_configured_weights() -> None:
    db = populated(parent_selection=selection(explore=0.3, exploit=0.5, elite=0.2))
    rounds = 4000
    modes = Counter(db.sample_detailed(db.next_island()).mode for _ in range(rounds))
    assert set(modes) == {"explore", "exploit", "elite"}
    assert modes["explore"] / rounds == pytest.approx(0.3, abs=0.03)
    assert modes["exploit"] / rounds == pytest.approx(0.5, abs=0.03)
    assert modes["elite"] / rounds == pytest.approx(0.2, abs=0.03)


def test_exploitation_picks_better_parents_than_exploration() -> None:
    explore = populated(parent_selection=selection(explore=1.0))
    exploit = populated(parent_selection=selection(exploit=1.0))

    def mean_parent_score(db: Population) -> float:
        scores = [db.sample(0)[0].score or 0.0 for _ in range(500)]
        return sum(scores) / len(scores)

    assert mean_parent_score(exploit) > mean_parent_score(explore) + 1.0


def test_explore_and_exploit_parents_come_from_the_sampled_island() -> None:
    db = populated(parent_selection=selection(explore=0.5, exploit=0.5))
    for _ in range(300):
        island = db.next_island()
        assert db.sample(island)[0].island == island


def test_inspirations_are_the_island_leaders_plus_other_cells_never_the_parent() -> None:
    db = populated(num_top_inspirations=2, num_diverse_inspirations=3)
    for _ in range(200):
        island = db.next_island()
        parent, inspirations, _ = db.sample(island)
        assert parent.id not in {p.id for p in inspirations}
        codes = [p.code for p in inspirations] + [parent.code]
        assert len(set(codes)) == len(codes)
        assert 1 <= len(inspirations) <= 5
        assert all(p.island == island and p.valid for p in inspirations)
        leaders = [db.get(key[2]) for key in db.islands[island].leaders if key[2] != parent.id]
        assert [p.id for p in inspirations[:2]] == [p.id for p in leaders[:2]]


def test_failures_are_the_latest_invalid_programs_of_that_island() -> None:
    db = Population(db_config(num_islands=2, num_failures=2), seed=0)
    db.add(make_program(island=0, score=1.0, origin="initial"))
    failures = [
        make_program(island=i % 2, valid=False, score=None, reason=f"r{i}") for i in range(6)
    ]
    for program in failures:
        db.add(program)
    _, _, on_zero = db.sample(0)
    _, _, on_one = db.sample(1)
    assert [p.id for p in on_zero] == [failures[4].id, failures[2].id]
    assert [p.id for p in on_one] == [failures[5].id, failures[3].id]


def test_an_empty_island_is_seeded_from_the_archive() -> None:
    db = Population(db_config(num_islands=3), seed=0)
    initial = make_program(island=0, score=1.0, origin="initial")
    db.add(initial)
    for island in (1, 2):
        chosen = db.sample_detailed(island)
        assert chosen.parent.id == initial.id and chosen.mode == "elite"


def test_without_any_valid_program_the_initial_program_is_the_parent() -> None:
    db = Population(db_config(num_islands=2), seed=0)
    with pytest.raises(ValueError, match="empty"):
        db.sample(0)
    initial = make_program(island=0, valid=False, score=None, origin="initial", reason="boom")
    db.add(initial)
    chosen = db.sample_detailed(1)
    assert (chosen.parent.id, chosen.mode) == (initial.id, "fallback")
    assert db.sample(0)[0].id == initial.id
