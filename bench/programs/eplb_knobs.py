"""EPLB with two knobs: the shipped initial program (DeepSeek's hierarchical policy) with
a replication exponent and a load-smoothing share, at values that reproduce it exactly
(POWER 1.0, SMOOTH 0.0). bench/tuning.py tunes them; see docs/tuning.md.

Written from the published description of DeepSeek's open-source EPLB
(github.com/deepseek-ai/EPLB), like problems/eplb/initial_program.py.
"""

from __future__ import annotations

import torch

# EVOLVE-BLOCK-START
POWER = 1.0  # an extra replica goes to the expert with the highest load / count ** POWER  # tune: 0.25..2.0
SMOOTH = 0.0  # share of the layer's mean load added to every expert (headroom)  # tune: 0.0..1.0


def balanced_packing(weight: torch.Tensor, num_packs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Put the items of each row into ``num_packs`` packs of equal item count.

    Items go heaviest first to the least-loaded pack that still has room.
    weight: [rows, items] float. Returns (pack_index, rank_in_pack), both [rows, items] int64.
    """
    rows, items = weight.shape
    per_pack = items // num_packs
    if per_pack == 1:
        pack_index = torch.arange(items, dtype=torch.int64).expand(rows, items).clone()
        return pack_index, torch.zeros(rows, items, dtype=torch.int64)

    order = weight.sort(dim=-1, descending=True).indices
    row_ids = torch.arange(rows)
    pack_load = torch.zeros(rows, num_packs, dtype=weight.dtype)
    pack_fill = torch.zeros(rows, num_packs, dtype=torch.int64)
    pack_index = torch.empty(rows, items, dtype=torch.int64)
    rank_in_pack = torch.empty(rows, items, dtype=torch.int64)
    for step in range(items):
        item = order[:, step]
        # Full packs are hidden behind +inf; argmin picks the first least-loaded pack.
        open_load = pack_load.masked_fill(pack_fill >= per_pack, float("inf"))
        pack = open_load.argmin(dim=-1)
        pack_index[row_ids, item] = pack
        rank_in_pack[row_ids, item] = pack_fill[row_ids, pack]
        pack_load[row_ids, pack] += weight[row_ids, item]
        pack_fill[row_ids, pack] += 1
    return pack_index, rank_in_pack


def replicate_experts(
    weight: torch.Tensor, num_slots: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Give every expert one slot, then each extra slot to the highest load per replica.

    weight: [rows, experts]. Returns slot_expert [rows, slots] (expert held by each slot),
    slot_rank [rows, slots] (which replica of its expert the slot is) and
    count [rows, experts] (replicas per expert).
    """
    rows, experts = weight.shape
    row_ids = torch.arange(rows)
    slot_expert = torch.arange(num_slots, dtype=torch.int64).repeat(rows, 1)
    slot_rank = torch.zeros(rows, num_slots, dtype=torch.int64)
    count = torch.ones(rows, experts, dtype=torch.int64)
    for slot in range(experts, num_slots):
        hottest = (weight / count**POWER).argmax(dim=-1)
        slot_expert[:, slot] = hottest
        slot_rank[:, slot] = count[row_ids, hottest]
        count[row_ids, hottest] += 1
    return slot_expert, slot_rank, count


def invert_permutation(perm: torch.Tensor) -> torch.Tensor:
    """Row-wise inverse of a permutation tensor [rows, n]."""
    inverse = torch.empty_like(perm)
    positions = torch.arange(perm.size(1), dtype=torch.int64).expand_as(perm)
    inverse.scatter_(1, perm, positions)
    return inverse


def place_hierarchical(
    weight: torch.Tensor, num_replicas: int, num_groups: int, num_nodes: int, num_gpus: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Groups -> nodes, replicate inside nodes, replicas -> GPUs.

    Returns slot_expert [layers, replicas], slot_rank [layers, replicas], count [layers, experts].
    """
    layers, experts = weight.shape
    group_size = experts // num_groups
    groups_per_node = num_groups // num_nodes
    experts_per_node = experts // num_nodes
    slots_per_node = num_replicas // num_nodes
    gpus_per_node = num_gpus // num_nodes
    slots_per_gpu = num_replicas // num_gpus

    # 1. Balance whole groups over nodes. Experts are then renumbered node-major
    #    ("node-local order"), so node n owns positions [n * experts_per_node, ...).
    group_load = weight.view(layers, num_groups, group_size).sum(-1)
    group_node, group_rank = balanced_packing(group_load, num_nodes)
    group_start = (group_node * groups_per_node + group_rank) * group_size
    expert_to_local = (group_start.unsqueeze(-1) + torch.arange(group_size)).flatten(-2)
    local_to_expert = invert_permutation(expert_to_local)

    # 2. Replicate inside each node: rows become (layer, node) pairs.
    local_load = weight.gather(-1, local_to_expert).view(layers * num_nodes, experts_per_node)
    slot_local, slot_rank, local_count = replicate_experts(local_load, slots_per_node)

    # 3. Pack each node's replicas onto its GPUs; a replica carries load / count.
    replica_load = (local_load / local_count).gather(-1, slot_local)
    gpu_index, gpu_rank = balanced_packing(replica_load, gpus_per_node)
    slot_to_placed = gpu_index * slots_per_gpu + gpu_rank
    placed_to_slot = invert_permutation(slot_to_placed)

    placed_local = slot_local.gather(-1, placed_to_slot)
    node_offset = torch.arange(num_nodes, dtype=torch.int64).view(1, -1, 1) * experts_per_node
    placed_local = (placed_local.view(layers, num_nodes, -1) + node_offset).flatten(-2)
    slot_expert = local_to_expert.gather(-1, placed_local)
    placed_rank = slot_rank.gather(-1, placed_to_slot).view(layers, -1)
    count = local_count.view(layers, -1).gather(-1, expert_to_local)
    return slot_expert, placed_rank, count


def rebalance_experts(
    weight: torch.Tensor, num_replicas: int, num_groups: int, num_nodes: int, num_gpus: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Place ``num_replicas`` expert replicas per layer on ``num_gpus`` GPUs.

    weight: [layers, experts] load per logical expert. Returns
    phy2log [layers, replicas] (expert held by each slot), log2phy [layers, experts, X]
    (slots of each expert, padded with -1) and logcnt [layers, experts] (replica counts).
    """
    layers, experts = weight.shape
    weight = weight.float().cpu()
    weight = weight + SMOOTH * weight.mean(dim=-1, keepdim=True)
    if num_groups % num_nodes == 0:
        phy2log, rank, logcnt = place_hierarchical(
            weight, num_replicas, num_groups, num_nodes, num_gpus
        )
    else:
        phy2log, rank, logcnt = place_hierarchical(weight, num_replicas, 1, 1, num_gpus)
    max_count = int(logcnt.max().item())
    log2phy = torch.full((layers, experts, max_count), -1, dtype=torch.int64)
    slots = torch.arange(num_replicas, dtype=torch.int64).expand(layers, -1)
    log2phy.view(layers, -1).scatter_(-1, phy2log * max_count + rank, slots)
    return phy2log, log2phy, logcnt


# EVOLVE-BLOCK-END
