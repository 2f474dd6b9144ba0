"""What it costs to move from one placement to the next, and the memory replicas take.

Bytes are counted per expert weight copy. The default size is one DeepSeek-V3 routed
expert in FP8: three matrices of hidden 7168 x intermediate 2048, one byte per weight
(DeepSeek-V3 config.json: hidden_size 7168, moe_intermediate_size 2048; FP8 weights),
i.e. 44,040,192 bytes; block scales are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulators.eplb.loads import Topology

DEFAULT_BYTES_PER_EXPERT = 3 * 7168 * 2048


@dataclass(frozen=True)
class RebalanceCost:
    """Moving from a previous placement to a new one (summed over layers)."""

    slots_changed: int  # slots whose expert differs from the previous placement
    copies_cross_gpu: int  # (layer, GPU, expert) copies a GPU must fetch: it did not hold it
    copies_cross_node: int  # of those, copies no GPU of the same node held before
    bytes_per_expert: int

    @property
    def bytes_cross_gpu(self) -> int:
        return self.copies_cross_gpu * self.bytes_per_expert

    @property
    def bytes_cross_node(self) -> int:
        return self.copies_cross_node * self.bytes_per_expert


def _holdings(
    phy2log: np.ndarray, unit_of_slot: np.ndarray, units: int, experts: int
) -> np.ndarray:
    """Flat boolean [layers * units * experts]: does the unit hold a copy of the expert."""
    layers = phy2log.shape[0]
    keys = (np.arange(layers)[:, None] * units + unit_of_slot[None, :]) * experts + phy2log
    held = np.zeros(layers * units * experts, dtype=bool)
    held[keys.ravel()] = True
    return held


def rebalance_cost(
    previous: np.ndarray,
    current: np.ndarray,
    num_experts: int,
    topology: Topology,
    bytes_per_expert: int = DEFAULT_BYTES_PER_EXPERT,
) -> RebalanceCost:
    """Cost of replacing placement ``previous`` by ``current`` (both [layers, replicas]).

    A GPU fetches an expert it needs and did not hold; the fetch crosses nodes when no GPU
    of its node held that expert (the cheapest source is assumed, as a migration planner
    would pick).
    """
    gpus, experts = topology.num_gpus, num_experts
    gpu_before = _holdings(previous, topology.slot_gpu(), gpus, experts)
    gpu_after = _holdings(current, topology.slot_gpu(), gpus, experts)
    fetched = np.flatnonzero(gpu_after & ~gpu_before)
    node_before = _holdings(previous, topology.slot_node(), topology.num_nodes, experts)
    # Flat (layer, gpu, expert) -> flat (layer, node, expert) of the same copy.
    layer_gpu, expert = np.divmod(fetched, experts)
    layer, gpu = np.divmod(layer_gpu, gpus)
    node_key = (layer * topology.num_nodes + gpu // topology.gpus_per_node) * experts + expert
    return RebalanceCost(
        slots_changed=int(np.count_nonzero(previous != current)),
        copies_cross_gpu=int(fetched.size),
        copies_cross_node=int(np.count_nonzero(~node_before[node_key])),
        bytes_per_expert=bytes_per_expert,
    )


def replication_memory(
    phy2log: np.ndarray,
    num_experts: int,
    topology: Topology,
    bytes_per_expert: int = DEFAULT_BYTES_PER_EXPERT,
) -> tuple[int, int]:
    """(bytes of expert copies beyond one per expert, slots duplicating an expert already on
    the same GPU). Same-GPU duplicates cost memory and buy no balance beyond one copy."""
    layers, replicas = phy2log.shape
    extra_bytes = layers * (replicas - num_experts) * bytes_per_expert
    distinct = _holdings(phy2log, topology.slot_gpu(), topology.num_gpus, num_experts).sum()
    return int(extra_bytes), int(layers * replicas - distinct)
