"""MoE expert-placement (EPLB) simulator: loads, balancedness, rebalance cost, workloads.

Pure numpy; imports nothing from ``evolve``. A placement is what an expert-parallel
load balancer returns per layer: ``phy2log`` [layers, replicas] (the logical expert in
each physical slot) and ``logcnt`` [layers, experts] (replicas per expert). Slot ``p``
sits on GPU ``p // (replicas / gpus)`` and node ``p // (replicas / nodes)``; each
replica of an expert receives an equal share of that expert's load.
"""

from __future__ import annotations

from simulators.eplb.cost import DEFAULT_BYTES_PER_EXPERT, RebalanceCost, rebalance_cost
from simulators.eplb.loads import (
    Topology,
    balancedness,
    level_loads,
    peak_to_mean,
    slot_loads,
)
from simulators.eplb.protocol import PlanScore, WorkloadScore, score_plan, score_workload
from simulators.eplb.validation import check_placement
from simulators.eplb.workload import WorkloadModel, generate_windows, load_windows

__all__ = [
    "DEFAULT_BYTES_PER_EXPERT",
    "PlanScore",
    "RebalanceCost",
    "Topology",
    "WorkloadModel",
    "WorkloadScore",
    "balancedness",
    "check_placement",
    "generate_windows",
    "level_loads",
    "load_windows",
    "peak_to_mean",
    "rebalance_cost",
    "score_plan",
    "score_workload",
    "slot_loads",
]
