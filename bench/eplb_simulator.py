"""Cost of the EPLB simulator per rebalance (58 layers x 256 experts -> 288 slots).

One rebalance = validate the placement, score it on the next window at GPU, node and
slot level, and compute the rebalancing cost against the previous placement. Prints the
median over repeats and its ratio to the 10 ms goal; a per-slot Python loop (the way a
straightforward simulator computes the same loads) is timed once for comparison.

    .venv/bin/python bench/eplb_simulator.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulators.eplb import Topology, check_placement, load_windows, rebalance_cost, score_plan

GOAL_MS = 10.0


def placement(load: np.ndarray, num_replicas: int, rng: np.random.Generator):
    """A valid placement: every expert once, the hottest get the extra slots, shuffled."""
    layers, experts = load.shape
    extra = np.argsort(-load, axis=1)[:, : num_replicas - experts]
    ids = np.concatenate([np.broadcast_to(np.arange(experts), (layers, experts)), extra], axis=1)
    phy2log = np.take_along_axis(ids, np.argsort(rng.random(ids.shape), axis=1), axis=1)
    flat = (np.arange(layers)[:, None] * experts + phy2log).ravel()
    logcnt = np.bincount(flat, minlength=layers * experts).reshape(layers, experts)
    order = np.argsort(flat, kind="stable")
    rank = np.empty_like(order)
    starts = np.concatenate([[0], np.cumsum(np.bincount(flat, minlength=layers * experts))[:-1]])
    rank[order] = np.arange(order.size) - starts[flat[order]]
    width = int(logcnt.max())
    log2phy = np.full((layers * experts, width), -1, dtype=np.int64)
    log2phy[flat, rank.ravel()] = np.tile(np.arange(num_replicas), layers)
    return phy2log, log2phy.reshape(layers, experts, width), logcnt


def one_rebalance(prev, cur, next_load, topology: Topology) -> None:
    phy2log, log2phy, logcnt = cur
    layers, experts = next_load.shape
    reason = check_placement(phy2log, log2phy, logcnt, layers, experts, topology.num_replicas)
    assert reason is None, reason
    score_plan(phy2log, logcnt, next_load, topology)
    rebalance_cost(prev[0], phy2log, experts, topology)


def naive_gpu_loads(load, phy2log, logcnt, topology: Topology) -> np.ndarray:
    out = np.zeros((load.shape[0], topology.num_gpus))
    for layer in range(load.shape[0]):
        for slot in range(topology.num_replicas):
            expert = phy2log[layer, slot]
            out[layer, slot // topology.slots_per_gpu] += (
                load[layer, expert] / logcnt[layer, expert]
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    windows = load_windows(ROOT / "problems" / "eplb" / "data" / "synthetic_seed0_windows.npz")
    topology = Topology(288, 8, 4, 32)
    rng = np.random.default_rng(0)
    plans = [placement(w, topology.num_replicas, rng) for w in windows[:-1]]
    times = []
    for r in range(args.repeats):
        i = 1 + r % (len(plans) - 1)
        start = time.perf_counter()
        one_rebalance(plans[i - 1], plans[i], windows[i + 1], topology)
        times.append(time.perf_counter() - start)
    median_ms = statistics.median(times) * 1e3
    start = time.perf_counter()
    naive_gpu_loads(windows[1], plans[0][0], plans[0][2], topology)
    naive_ms = (time.perf_counter() - start) * 1e3
    print(
        f"workload {windows.shape[1]} layers x {windows.shape[2]} experts -> {topology.num_replicas} slots"
    )
    print(
        f"simulator per rebalance (validate + score 3 levels + move cost): median {median_ms:.2f} ms "
        f"over {args.repeats} repeats"
    )
    print(f"ratio to the {GOAL_MS:g} ms goal: {median_ms / GOAL_MS:.2f} (below 1 meets it)")
    print(
        f"per-slot Python loop, GPU loads only: {naive_ms:.1f} ms ({naive_ms / median_ms:.0f}x the simulator)"
    )


if __name__ == "__main__":
    main()
