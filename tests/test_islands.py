"""Island invariants: where children land, equal progress, migration copies, rebuild."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support_database import db_config, make_call, make_program, random_code, selection

from evolve.database.records import ProgramRecord, new_id
from evolve.database.store import Store
from evolve.errors import UserError
from evolve.search.population import Population


def seeded(islands: int, **cfg: object) -> Population:
    db = Population(db_config(num_islands=islands, **cfg), seed=3)
    rng = random.Random(99)
    for island in range(islands):
        for _ in range(6):
            db.add(
                make_program(
                    code=random_code(rng), island=island, score=rng.uniform(0, 5), origin="initial"
                )
            )
    return db


def grow(
    db: Population, rng: random.Random, iterations: int, run_id: str = "run"
) -> list[ProgramRecord]:
    """What a controller does per iteration: pick island, sample, add the child there."""
    children = []
    for _ in range(iterations):
        island = db.next_island()
        parent, _, _ = db.sample(island)
        valid = rng.random() > 0.25
        child = make_program(
            run_id,
            code=random_code(rng),
            island=island,
            parent_id=parent.id,
            generation=parent.generation + 1,
            valid=valid,
            score=rng.uniform(0, 10) if valid else float("nan"),
            metrics={"latency": rng.random() if valid else float("inf")},
        )
        db.add(child)
        children.append(child)
    return children


def test_a_child_lands_on_its_parents_island() -> None:
    db = seeded(4, parent_selection=selection(explore=0.3, exploit=0.4, elite=0.3))
    rng = random.Random(5)
    modes: set[str] = set()
    for _ in range(400):
        island = db.next_island()
        chosen = db.sample_detailed(island)
        modes.add(chosen.mode)
        assert chosen.parent.island == island, chosen.mode  # every mode picks from the island
        child = make_program(code=random_code(rng), island=island, parent_id=chosen.parent.id)
        db.add(child)
        assert child.id in db.islands[island].valid_ids
        assert all(child.id not in other.valid_ids for other in db.islands if other.index != island)
    assert {"explore", "exploit", "elite"} <= modes


def test_every_island_advances_equally() -> None:
    db = seeded(4)
    order = [db.next_island() for _ in range(12)]
    assert order == [0, 1, 2, 3] * 3
    grow(db, random.Random(1), 100)
    children = [stats.children for stats in db.stats().islands]
    assert children == [25, 25, 25, 25]
    # several iterations in flight at once still spread evenly
    in_flight = Counter(db.next_island() for _ in range(10))
    assert max(in_flight.values()) - min(in_flight.values()) <= 1


def test_migration_copies_top_elites_to_the_next_island() -> None:
    db = seeded(3, migration_interval=5, migration_rate=0.5)
    rng = random.Random(2)
    assert not db.should_migrate()
    grow(db, rng, 3 * 5)
    assert db.should_migrate()
    elites_before = {island.index: island.elites() for island in db.islands}
    ids = (f"copy{i}" for i in itertools.count())
    copies = db.migrate(lambda: next(ids))
    assert copies and not db.should_migrate()
    for copy in copies:
        source = db.get(copy.parent_id or "")
        assert copy.origin == "migration" and copy.id.startswith("copy")
        assert copy.island == (source.island + 1) % 3
        assert (copy.code, copy.score, copy.metrics) == (source.code, source.score, source.metrics)
        assert copy.id in db.islands[copy.island].valid_ids
        # a copy, not a move: the source island still has its elite
        assert source.id in db.islands[source.island].valid_ids
        assert source.id in {key[2] for key in db.islands[source.island].grid.values()}
    for index, elites in elites_before.items():
        sent = [c for c in copies if db.get(c.parent_id or "").island == index]
        allowed = {key[2] for key in elites[: max(1, int(0.5 * len(elites)))]}
        assert sent and {c.parent_id for c in sent} <= allowed
    # the next round never puts a second copy of the same code on an island
    grow(db, rng, 3 * 5)
    assert db.should_migrate()
    db.migrate(new_id)
    for island in db.islands:
        codes = [db.get(pid).code for pid in island.valid_ids]
        assert len(codes) == len(set(codes))


def test_a_migration_cut_short_by_a_crash_is_caught_up_on_resume() -> None:
    db = seeded(3, migration_interval=5, migration_rate=0.5)
    grow(db, random.Random(2), 3 * 5)
    assert db.should_migrate()
    stored = list(db.programs())  # the kill came before the round's copies were stored
    resumed = Population(db.cfg, seed=3)
    resumed.rebuild(stored)
    assert resumed.should_migrate()
    copies = resumed.migrate(new_id)
    assert copies
    again = Population(db.cfg, seed=3)
    again.rebuild([*stored, *copies])  # this time the round was stored: nothing is due
    assert not again.should_migrate()


def test_migration_is_off_with_one_island() -> None:
    db = seeded(1, migration_interval=2)
    grow(db, random.Random(0), 10)
    assert not db.should_migrate()
    assert db.migrate(new_id) == []


def fingerprint(db: Population) -> dict[str, Any]:
    return {
        "islands": [
            (
                island.size, island.children, list(island.valid_ids), list(island.leaders),
                dict(island.grid), list(island.cells), list(island.failures),
                set(island.code_hashes), list(island.reference.tokens),
            )
            for island in db.islands
        ],
        "archive": list(db.archive.entries),
        "axes": [(axis.low, axis.high) for axis in db.space.axes],
        "features": {p.id: dict(p.features) for p in db.programs()},
        "best": db.best().id if db.best() else None,
        "should_migrate": db.should_migrate(),
    }  # fmt: skip


def test_rebuild_from_the_store_equals_incremental_adds(tmp_path: Path) -> None:
    dimensions = ["complexity", "diversity", "latency"]  # "latency" comes from the metrics
    cfg = db_config(num_islands=3, migration_interval=8, feature_dimensions=dimensions)
    store = Store(tmp_path / "evolve.db")
    run_id = store.create_run("r", "p", {}, 0)
    live = Population(cfg, seed=11)
    rng = random.Random(11)
    initial = make_program(run_id, code=random_code(rng), origin="initial", score=1.0)
    live.add(initial)
    store.add_program(initial)
    for _ in range(20):
        for child in grow(live, rng, 6, run_id):
            store.add_program(child, [make_call(run_id)])
        if live.should_migrate():
            for copy in live.migrate(new_id):
                store.add_program(copy)
    assert any(p.origin == "migration" for p in live.programs())

    resumed = Population(cfg, seed=11)
    resumed.rebuild(store.programs(run_id))
    if resumed.should_migrate() and not live.should_migrate():
        # The last round stored no copies (everything was already there): a resumed run
        # cannot tell it from a round cut short by a crash, redoes it, and it copies nothing.
        assert resumed.migrate(new_id) == []
    assert fingerprint(resumed) == fingerprint(live)

    # without stored feature values the same state is recomputed (deterministic refs)
    stripped = [replace(p, features={}) for p in store.programs(run_id)]
    recomputed = Population(cfg, seed=11)
    recomputed.rebuild(stripped)
    if recomputed.should_migrate() and not live.should_migrate():
        assert recomputed.migrate(new_id) == []
    assert fingerprint(recomputed) == fingerprint(live)

    # the island that fell behind is the next one handed out after a resume
    assert resumed.next_island() == min(range(3), key=lambda i: (resumed.islands[i].children, i))
    store.close()


def test_adding_the_same_id_twice_is_ignored() -> None:
    db = seeded(2)
    program = make_program(island=1, score=100.0)
    assert db.add(program) is True
    assert db.add(program) is False
    assert db.islands[1].valid_ids.count(program.id) == 1
    assert db.best() is program


def test_a_program_on_a_missing_island_is_a_user_error() -> None:
    db = Population(db_config(num_islands=2), seed=0)
    with pytest.raises(UserError, match="island 5") as caught:
        db.add(make_program(island=5))
    assert caught.value.where == "database.num_islands"


def test_island_best_and_stats() -> None:
    db = Population(db_config(num_islands=2), seed=0)
    low = make_program(island=0, score=1.0, code="a = 1")
    high = make_program(island=1, score=9.0, code="b = 2")
    failed = make_program(island=1, valid=False, score=None, code="c = 3")
    for program in (low, high, failed):
        db.add(program)
    assert db.island_best(0) is low and db.island_best(1) is high and db.best() is high
    stats = db.stats()
    assert (stats.programs, stats.valid, stats.archive, stats.best_score) == (3, 2, 2, 9.0)
    assert [(s.programs, s.valid, s.cells) for s in stats.islands] == [(1, 1, 1), (2, 1, 1)]
