"""The scoring protocol: plan on window i, score on window i+1 ("predict the next window").

A balancer re-runs while load drifts, so a placement is judged on the load that arrives
after it was computed, never on the load it was computed from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from simulators.eplb.cost import DEFAULT_BYTES_PER_EXPERT, rebalance_cost, replication_memory
from simulators.eplb.loads import (
    LEVELS,
    Topology,
    balancedness,
    level_loads,
    peak_to_mean,
    slot_loads,
)


@dataclass
class PlanScore:
    """One placement scored on the window after the one it was planned on."""

    balancedness: dict[str, float]  # level ("gpu", "node", "slot") -> balancedness
    peak_to_mean_gpu: float
    layer_balancedness_gpu: np.ndarray  # [layers] mean/max GPU load per layer
    hottest_gpu: tuple[int, int, float]  # (layer, gpu, load / mean load of that layer)
    simulator_s: float


@dataclass
class WorkloadScore:
    """Means over the rebalances of one workload, plus the per-rebalance detail."""

    plans: list[PlanScore]
    balancedness: dict[str, float]
    peak_to_mean_gpu: float
    slots_changed: float  # mean per rebalance after the first
    bytes_cross_gpu: float
    bytes_cross_node: float
    replication_bytes: int
    same_gpu_duplicates: float
    simulator_s_per_rebalance: float
    layer_balancedness_gpu: np.ndarray = field(default_factory=lambda: np.zeros(0))


def score_plan(
    phy2log: np.ndarray, logcnt: np.ndarray, next_load: np.ndarray, topology: Topology
) -> PlanScore:
    """Score one valid placement against the next window's load [layers, experts]."""
    started = time.perf_counter()
    slots = slot_loads(next_load, phy2log, logcnt)
    per_level = {level: level_loads(slots, topology, level) for level in LEVELS}
    gpu = per_level["gpu"]
    gpu_mean = gpu.mean(axis=1)
    gpu_max = gpu.max(axis=1)
    layer_balance = np.divide(gpu_mean, gpu_max, out=np.ones_like(gpu_mean), where=gpu_max > 0)
    relative = np.divide(gpu, gpu_mean[:, None], out=np.ones_like(gpu), where=gpu_mean[:, None] > 0)
    layer, hot = np.unravel_index(int(np.argmax(relative)), relative.shape)
    score = PlanScore(
        balancedness={level: balancedness(loads) for level, loads in per_level.items()},
        peak_to_mean_gpu=peak_to_mean(gpu),
        layer_balancedness_gpu=layer_balance,
        hottest_gpu=(int(layer), int(hot), float(relative[layer, hot])),
        simulator_s=0.0,
    )
    score.simulator_s = time.perf_counter() - started
    return score


def score_workload(
    windows: np.ndarray,
    placements: list[tuple[np.ndarray, np.ndarray]],
    topology: Topology,
    bytes_per_expert: int = DEFAULT_BYTES_PER_EXPERT,
) -> WorkloadScore:
    """Score placements[i] (planned on windows[i]) on windows[i + 1].

    ``windows`` is [windows, layers, experts]; ``placements`` holds one valid
    (phy2log, logcnt) per planned window, len(windows) - 1 of them.
    """
    if len(placements) != len(windows) - 1:
        raise ValueError(
            f"{len(windows)} windows need {len(windows) - 1} placements, got {len(placements)}"
        )
    num_experts = windows.shape[2]
    plans = [
        score_plan(phy2log, logcnt, windows[i + 1], topology)
        for i, (phy2log, logcnt) in enumerate(placements)
    ]
    started = time.perf_counter()
    costs = [
        rebalance_cost(
            placements[i - 1][0], placements[i][0], num_experts, topology, bytes_per_expert
        )
        for i in range(1, len(placements))
    ]
    memory = [replication_memory(p, num_experts, topology, bytes_per_expert) for p, _ in placements]
    cost_s = time.perf_counter() - started

    def mean(values: list[float]) -> float:
        return float(np.mean(values)) if values else 0.0

    return WorkloadScore(
        plans=plans,
        balancedness={level: mean([p.balancedness[level] for p in plans]) for level in LEVELS},
        peak_to_mean_gpu=mean([p.peak_to_mean_gpu for p in plans]),
        slots_changed=mean([c.slots_changed for c in costs]),
        bytes_cross_gpu=mean([c.bytes_cross_gpu for c in costs]),
        bytes_cross_node=mean([c.bytes_cross_node for c in costs]),
        replication_bytes=memory[0][0],
        same_gpu_duplicates=mean([m[1] for m in memory]),
        simulator_s_per_rebalance=(sum(p.simulator_s for p in plans) + cost_s) / len(plans),
        layer_balancedness_gpu=np.mean([p.layer_balancedness_gpu for p in plans], axis=0),
    )
