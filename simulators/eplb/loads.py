"""Per-slot, per-GPU and per-node load of a placement, and the balance measures on them.

Everything is vectorised over layers and slots (no Python loops over experts or slots):
the slot load is one gather, GPU and node loads are reshaped sums, because slots are laid
out GPU-major (slot ``p`` on GPU ``p // slots_per_gpu``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEVELS = ("gpu", "node", "slot")


@dataclass(frozen=True)
class Topology:
    """Cluster shape: physical slots per layer, expert groups, nodes and GPUs."""

    num_replicas: int = 288
    num_groups: int = 8
    num_nodes: int = 4
    num_gpus: int = 32

    def problem(self) -> str | None:
        """Why this topology cannot hold a placement, or None when it can."""
        for name in ("num_replicas", "num_groups", "num_nodes", "num_gpus"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                return f"{name} must be a positive integer, got {value!r}"
        if self.num_gpus % self.num_nodes:
            return f"num_gpus ({self.num_gpus}) must be a multiple of num_nodes ({self.num_nodes})"
        if self.num_replicas % self.num_gpus:
            return (f"num_replicas ({self.num_replicas}) must be a multiple of "
                    f"num_gpus ({self.num_gpus})")
        return None

    @property
    def slots_per_gpu(self) -> int:
        return self.num_replicas // self.num_gpus

    @property
    def slots_per_node(self) -> int:
        return self.num_replicas // self.num_nodes

    @property
    def gpus_per_node(self) -> int:
        return self.num_gpus // self.num_nodes

    def slot_gpu(self) -> np.ndarray:
        """GPU of each slot, [replicas]."""
        return np.arange(self.num_replicas) // self.slots_per_gpu

    def slot_node(self) -> np.ndarray:
        """Node of each slot, [replicas]."""
        return np.arange(self.num_replicas) // self.slots_per_node


def slot_loads(load: np.ndarray, phy2log: np.ndarray, logcnt: np.ndarray) -> np.ndarray:
    """Load on each physical slot, [layers, replicas] float64.

    ``load`` [layers, experts] is the observed load of the scored window; each replica of
    an expert gets ``load / count``.
    """
    per_replica = np.asarray(load, dtype=np.float64) / np.maximum(logcnt, 1)
    return np.take_along_axis(per_replica, phy2log, axis=1)


def level_loads(slot_load: np.ndarray, topology: Topology, level: str) -> np.ndarray:
    """Sum slot loads per GPU or node ([layers, units]); ``"slot"`` returns them as is."""
    layers, replicas = slot_load.shape
    if level == "slot":
        return slot_load
    units = {"gpu": topology.num_gpus, "node": topology.num_nodes}[level]
    return slot_load.reshape(layers, units, replicas // units).sum(axis=-1)


def balancedness(unit_load: np.ndarray) -> float:
    """sum over layers of mean load / sum over layers of max load (1.0 is perfect).

    This is the quantity vLLM and SGLang log per GPU, and that the ADRS evaluator reports
    per physical slot. A window with no load at all counts as perfectly balanced.
    """
    peak = float(unit_load.max(axis=1).sum())
    if peak <= 0.0:
        return 1.0
    return float(unit_load.mean(axis=1).sum()) / peak


def peak_to_mean(unit_load: np.ndarray) -> float:
    """Mean over layers of max/mean load (1.0 is perfect; what stalls an all-to-all)."""
    mean = unit_load.mean(axis=1)
    busy = mean > 0
    if not busy.any():
        return 1.0
    return float((unit_load.max(axis=1)[busy] / mean[busy]).mean())
