"""Feature values, MAP-Elites cells, the elite archive and JSON-safe storage values."""

from __future__ import annotations

import json
import random

import numpy as np
from support_database import db_config, make_program, random_code

from evolve.database.jsonsafe import json_safe
from evolve.search.features import (
    DiversityReference,
    FeatureAxis,
    code_tokens,
    jaccard_distance,
)
from evolve.search.population import Population


def test_complexity_is_code_length_on_a_log_scale() -> None:
    db = Population(db_config(num_islands=1, feature_dimensions=["complexity"]), seed=0)
    sizes = [10, 100, 1_000, 10_000]
    programs = [make_program(code="x" * size, score=1.0) for size in sizes]
    for program in programs:
        db.add(program)
    assert [p.features["complexity"] for p in programs] == [float(s) for s in sizes]
    cells = [db.space.cell(p.features)[0] for p in programs]
    # equal steps in log(length) give (nearly) equal steps in bins: 0, ~2.7, ~5.3, 7
    assert cells[0] == 0 and cells[-1] == 7
    assert cells == sorted(cells) and len(set(cells)) == 4


def test_diversity_is_a_token_jaccard_distance_or_the_reported_metric() -> None:
    db = Population(db_config(num_islands=1, feature_dimensions=["diversity"]), seed=0)
    first = make_program(code="alpha beta gamma")
    same = make_program(code="alpha beta gamma")
    different = make_program(code="delta epsilon")
    reported = make_program(code="alpha", metrics={"diversity": 0.42})
    for program in (first, same, different, reported):
        db.add(program)
    assert first.features["diversity"] == 0.0  # nothing to compare with yet
    assert same.features["diversity"] == 0.0
    assert different.features["diversity"] == 1.0
    assert reported.features["diversity"] == 0.42


def test_other_dimensions_read_metrics_and_default_to_zero() -> None:
    db = Population(db_config(num_islands=1, feature_dimensions=["latency"]), seed=0)
    with_metric = make_program(metrics={"latency": 3.5})
    without = make_program(code="y = 2", metrics={})
    non_finite = make_program(code="z = 3", metrics={"latency": float("nan")})
    for program in (with_metric, without, non_finite):
        db.add(program)
    assert [p.features["latency"] for p in (with_metric, without, non_finite)] == [3.5, 0.0, 0.0]


def test_a_cell_keeps_its_best_program() -> None:
    db = Population(db_config(num_islands=1, feature_dimensions=["size"]), seed=0)
    db.add(make_program(code="a", metrics={"size": 0.0}, score=0.0))
    db.add(make_program(code="b", metrics={"size": 10.0}, score=0.0))  # fixes the range
    worse = make_program(code="c", metrics={"size": 9.9}, score=-1.0)
    better = make_program(code="d", metrics={"size": 9.8}, score=5.0)
    later_tie = make_program(code="e", metrics={"size": 9.7}, score=5.0)
    for program in (worse, better, later_tie):
        db.add(program)
    top_cell = db.space.cell({"size": 10.0})
    assert db.islands[0].grid[top_cell][2] == better.id


def test_cells_stay_consistent_when_ranges_grow() -> None:
    cfg = db_config(num_islands=2, feature_dimensions=["complexity", "diversity"], feature_bins=5)
    db = Population(cfg, seed=0)
    rng = random.Random(3)
    for i in range(300):
        db.add(make_program(code=random_code(rng), island=i % 2, score=rng.random()))
    for island in db.islands:
        assert len(island.cells) == len(island.grid) <= 25
        assert set(island.cells) == set(island.grid)
        for cell, key in island.grid.items():
            assert db.space.cell(db.get(key[2]).features) == cell


def test_axis_and_reference_set_are_bounded_and_deterministic() -> None:
    axis = FeatureAxis("x", bins=4)
    assert axis.observe(1.0) and axis.bin(1.0) == 0
    assert axis.observe(5.0) and not axis.observe(3.0)
    assert [axis.bin(v) for v in (1.0, 2.0, 3.0, 4.9, 5.0, 99.0)] == [0, 1, 2, 3, 3, 3]
    reference = DiversityReference(size=3, stride=2)
    for word in "abcdefg":
        reference.observe(lambda word=word: frozenset({word}))  # type: ignore[misc]
    assert len(reference.tokens) == 3
    # full after a, b, c; then every 2nd newcomer (d, f) replaces the oldest slot
    assert reference.tokens == [frozenset({"d"}), frozenset({"f"}), frozenset({"c"})]
    assert jaccard_distance(code_tokens("a b c"), code_tokens("b c d")) == 0.5


def test_the_archive_is_bounded_and_holds_each_code_once() -> None:
    db = Population(db_config(num_islands=2, archive_size=5), seed=0)
    for i in range(20):
        db.add(make_program(code=f"v = {i}", island=i % 2, score=float(i)))
    db.add(make_program(code="v = 19", island=0, score=19.0))  # same code as the best
    assert len(db.archive.entries) == 5
    assert [-key[0] for key in db.archive.entries] == [19.0, 18.0, 17.0, 16.0, 15.0]


def test_json_safe_turns_evaluator_output_into_strict_json() -> None:
    value = {
        "nan": float("nan"),
        "inf": float("inf"),
        "np_float": np.float32(1.5),
        "np_int": np.int64(3),
        "array": np.array([1.0, np.inf]),
        "tuple": (1, 2),
        1: "int key",
        "other": object,
    }
    safe = json_safe(value)
    assert json.loads(json.dumps(safe, allow_nan=False)) == safe
    assert safe["nan"] == "nan" and safe["inf"] == "inf"
    assert safe["np_float"] == 1.5 and safe["np_int"] == 3
    assert safe["array"] == [1.0, "inf"] and safe["tuple"] == [1, 2] and safe["1"] == "int key"
