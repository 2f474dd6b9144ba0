"""simulators/eplb against naive loop implementations, validation rules, the generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulators.eplb import (
    Topology,
    WorkloadModel,
    balancedness,
    check_placement,
    generate_windows,
    level_loads,
    load_windows,
    peak_to_mean,
    rebalance_cost,
    score_workload,
    slot_loads,
)
from simulators.eplb.cost import replication_memory

DATA = Path(__file__).resolve().parents[1] / "problems" / "eplb" / "data"
SMALL = Topology(num_replicas=12, num_groups=2, num_nodes=2, num_gpus=4)


def random_placement(rng: np.random.Generator, layers: int, experts: int, replicas: int):
    """A valid random placement: each expert once, extra slots random, slots shuffled."""
    phy2log = np.empty((layers, replicas), dtype=np.int64)
    for layer in range(layers):
        ids = np.concatenate([np.arange(experts), rng.integers(0, experts, replicas - experts)])
        phy2log[layer] = rng.permutation(ids)
    logcnt = np.zeros((layers, experts), dtype=np.int64)
    for layer in range(layers):
        for slot in range(replicas):
            logcnt[layer, phy2log[layer, slot]] += 1
    width = int(logcnt.max())
    log2phy = np.full((layers, experts, width), -1, dtype=np.int64)
    for layer in range(layers):
        fill = [0] * experts
        for slot in range(replicas):
            expert = phy2log[layer, slot]
            log2phy[layer, expert, fill[expert]] = slot
            fill[expert] += 1
    return phy2log, log2phy, logcnt


def naive_unit_loads(load, phy2log, logcnt, slots_per_unit):
    layers, replicas = phy2log.shape
    units = replicas // slots_per_unit
    out = np.zeros((layers, units))
    for layer in range(layers):
        for slot in range(replicas):
            expert = phy2log[layer, slot]
            out[layer, slot // slots_per_unit] += load[layer, expert] / logcnt[layer, expert]
    return out


def naive_balancedness(unit_load):
    means = sum(sum(row) / len(row) for row in unit_load)
    peaks = sum(max(row) for row in unit_load)
    return means / peaks


@pytest.mark.parametrize("seed", range(5))
def test_loads_and_balancedness_match_naive_loops(seed: int) -> None:
    rng = np.random.default_rng(seed)
    layers, experts = 3, 8
    load = rng.integers(0, 1000, (layers, experts)).astype(np.float64)
    phy2log, _, logcnt = random_placement(rng, layers, experts, SMALL.num_replicas)
    slots = slot_loads(load, phy2log, logcnt)
    for level, per_unit in (
        ("slot", 1),
        ("gpu", SMALL.slots_per_gpu),
        ("node", SMALL.slots_per_node),
    ):
        expected = naive_unit_loads(load, phy2log, logcnt, per_unit)
        got = level_loads(slots, SMALL, level)
        np.testing.assert_allclose(got, expected, rtol=1e-12)
        assert balancedness(got) == pytest.approx(naive_balancedness(expected), rel=1e-12)
    gpu = level_loads(slots, SMALL, "gpu")
    expected_ptm = np.mean([max(row) / (sum(row) / len(row)) for row in gpu])
    assert peak_to_mean(gpu) == pytest.approx(expected_ptm, rel=1e-12)
    # Load is conserved: every token lands on some slot.
    np.testing.assert_allclose(slots.sum(axis=1), load.sum(axis=1))


def naive_cost(previous, current, experts, topo: Topology):
    changed = cross_gpu = cross_node = 0
    layers, replicas = previous.shape
    for layer in range(layers):
        before_gpu = {(s // topo.slots_per_gpu, previous[layer, s]) for s in range(replicas)}
        before_node = {(s // topo.slots_per_node, previous[layer, s]) for s in range(replicas)}
        after_gpu = {(s // topo.slots_per_gpu, current[layer, s]) for s in range(replicas)}
        changed += sum(previous[layer, s] != current[layer, s] for s in range(replicas))
        for gpu, expert in after_gpu - before_gpu:
            cross_gpu += 1
            node = gpu // topo.gpus_per_node
            cross_node += (node, expert) not in before_node
    return changed, cross_gpu, cross_node


@pytest.mark.parametrize("seed", range(5))
def test_rebalance_cost_matches_naive_loops(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    layers, experts = 4, 8
    previous = random_placement(rng, layers, experts, SMALL.num_replicas)[0]
    current = random_placement(rng, layers, experts, SMALL.num_replicas)[0]
    cost = rebalance_cost(previous, current, experts, SMALL, bytes_per_expert=10)
    changed, cross_gpu, cross_node = naive_cost(previous, current, experts, SMALL)
    assert (cost.slots_changed, cost.copies_cross_gpu, cost.copies_cross_node) == (
        changed,
        cross_gpu,
        cross_node,
    )
    assert cost.bytes_cross_gpu == 10 * cross_gpu and cost.bytes_cross_node == 10 * cross_node
    same = rebalance_cost(previous, previous, experts, SMALL)
    assert (same.slots_changed, same.copies_cross_gpu, same.copies_cross_node) == (0, 0, 0)


def test_replication_memory_counts_same_gpu_duplicates() -> None:
    phy2log = np.array([[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 1, 2]])  # GPU 0 holds expert 0 three times
    extra, duplicates = replication_memory(phy2log, 8, SMALL, bytes_per_expert=3)
    assert extra == (12 - 8) * 3
    assert duplicates == 2


def test_score_workload_pairs_each_plan_with_the_next_window() -> None:
    rng = np.random.default_rng(7)
    windows = rng.integers(1, 50, (3, 2, 8))
    plans = [random_placement(rng, 2, 8, SMALL.num_replicas) for _ in range(2)]
    score = score_workload(windows, [(p, c) for p, _, c in plans], SMALL)
    for i, (phy2log, _, logcnt) in enumerate(plans):
        gpu = naive_unit_loads(windows[i + 1].astype(float), phy2log, logcnt, SMALL.slots_per_gpu)
        assert score.plans[i].balancedness["gpu"] == pytest.approx(
            naive_balancedness(gpu), rel=1e-12
        )
    with pytest.raises(ValueError):
        score_workload(windows, [(plans[0][0], plans[0][2])], SMALL)


# ---------------------------------------------------------------- validation


def valid_small():
    return random_placement(np.random.default_rng(3), 2, 8, 12)


def test_valid_placement_passes() -> None:
    assert check_placement(*valid_small(), 2, 8, 12) is None


def test_log2phy_order_within_an_expert_is_free() -> None:
    phy2log, log2phy, logcnt = valid_small()
    expert = int(np.argmax(logcnt[0]))
    log2phy[0, expert, :2] = log2phy[0, expert, :2][::-1].copy()
    assert check_placement(phy2log, log2phy, logcnt, 2, 8, 12) is None


@pytest.mark.parametrize(
    "breaker, expected",
    [
        (lambda p, l, c: (p.astype(np.float64), l, c), "integer tensor"),
        (lambda p, l, c: (np.where(p == p[0, 0], np.nan, p.astype(float)), l, c), "NaN"),
        (lambda p, l, c: (p[:, :-1], l, c), "shape"),
        (lambda p, l, c: (p, l[:, :, None], c), "log2phy has shape"),
        (lambda p, l, c: (np.where(np.arange(12) == 4, 8, p), l, c), "not an expert id"),
        (lambda p, l, c: (np.where(p == 3, 4, p), l, c), "zero replicas"),
        (lambda p, l, c: (p, l, c + (np.arange(8) == 0)), "sums to"),
        (lambda p, l, c: (p, l, c + (np.arange(8) == 0) - (np.arange(8) == 1)), "disagrees"),
        (lambda p, l, c: (p, np.where(l == -1, 0, l), c), "should be -1"),
        (lambda p, l, c: (p, np.where(l == l[0, 0, 0], 99, l), c), "not a slot id"),
    ],
)
def test_each_rule_has_a_specific_reason(breaker, expected: str) -> None:
    phy2log, log2phy, logcnt = breaker(*valid_small())
    reason = check_placement(phy2log, log2phy, logcnt, 2, 8, 12)
    assert reason is not None and expected in reason, reason


def test_log2phy_pointing_at_another_experts_slot_is_rejected() -> None:
    phy2log, log2phy, logcnt = valid_small()
    log2phy[0, 0, 0], log2phy[0, 1, 0] = log2phy[0, 1, 0], log2phy[0, 0, 0]
    reason = check_placement(phy2log, log2phy, logcnt, 2, 8, 12)
    assert reason is not None and "points at slot" in reason


def test_log2phy_listing_a_slot_twice_is_rejected() -> None:
    # Expert 0 has two slots; list the first one twice (both entries hold expert 0).
    phy2log = np.array([[0, 0, 1, 2, 3, 4, 5, 6, 7, 1, 2, 3]])
    _, log2phy, logcnt = random_placement(np.random.default_rng(0), 1, 8, 12)
    log2phy = np.full((1, 8, 2), -1)
    for expert in range(8):
        slots = np.flatnonzero(phy2log[0] == expert)
        log2phy[0, expert, : len(slots)] = slots
    logcnt = np.bincount(phy2log[0], minlength=8)[None]
    assert check_placement(phy2log, log2phy, logcnt, 1, 8, 12) is None
    log2phy[0, 0, 1] = log2phy[0, 0, 0]
    reason = check_placement(phy2log, log2phy, logcnt, 1, 8, 12)
    assert reason is not None and "lists slot 0" in reason


# ---------------------------------------------------------------- workloads


def test_generator_is_deterministic_and_seed_dependent() -> None:
    model = WorkloadModel(num_windows=3, num_layers=4, num_experts=32, num_groups=4)
    first, again, other = (generate_windows(model, s) for s in (5, 5, 6))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.dtype == np.int32 and first.shape == (3, 4, 32)
    routed = model.steps_per_window * model.tokens_per_step * model.top_k
    assert (first.sum(axis=2) == routed).all()


def test_generator_skew_and_drift_follow_the_model() -> None:
    base = WorkloadModel(num_windows=2, num_layers=20)
    hot = generate_windows(WorkloadModel(num_windows=2, num_layers=20, expert_sigma=1.5), 0)
    mild = generate_windows(base, 0)

    def skew(w: np.ndarray) -> float:
        return float((w.max(axis=-1) / w.mean(axis=-1)).mean())

    assert skew(hot) > skew(mild)
    slow = generate_windows(WorkloadModel(num_windows=2, num_layers=20, drift_rho=0.99), 1)
    fast = generate_windows(WorkloadModel(num_windows=2, num_layers=20, drift_rho=0.3), 1)

    def persistence(w: np.ndarray) -> float:
        logs = np.log1p(w.astype(float))
        return float(
            np.mean([np.corrcoef(logs[0, l], logs[1, l])[0, 1] for l in range(w.shape[1])])
        )

    assert persistence(slow) > persistence(fast)


@pytest.mark.parametrize(
    "name, model, seed",
    [
        (
            "holdout_seed1_hot_fast.npz",
            WorkloadModel(num_windows=4, expert_sigma=1.3, drift_rho=0.8),
            1,
        ),
        (
            "holdout_seed2_grouped_slow.npz",
            WorkloadModel(num_windows=4, expert_sigma=0.8, group_sigma=0.6, drift_rho=0.95),
            2,
        ),
    ],
)
def test_shipped_holdout_files_regenerate_exactly(
    name: str, model: WorkloadModel, seed: int
) -> None:
    np.testing.assert_array_equal(load_windows(DATA / name), generate_windows(model, seed))


def test_load_windows_rejects_malformed_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "named.npz", loads=np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="no array named 'windows'"):
        load_windows(tmp_path / "named.npz")
    np.savez(tmp_path / "flat.npz", windows=np.ones((4, 4)))
    with pytest.raises(ValueError, match="layers, experts"):
        load_windows(tmp_path / "flat.npz")
    np.savez(tmp_path / "neg.npz", windows=-np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        load_windows(tmp_path / "neg.npz")
    fixture = load_windows(DATA / "synthetic_seed0_windows.npz")
    assert fixture.shape == (10, 58, 256)
