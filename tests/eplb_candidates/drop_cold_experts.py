"""The shortcut the ADRS "best" EPLB program takes: only the hottest half of the experts
get slots, so the remaining load looks balanced while the cold experts' tokens have
nowhere to go. Otherwise consistent (logcnt, log2phy agree with phy2log)."""

import torch


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    layers, experts = weight.shape
    kept = experts // 2
    hot = weight.float().argsort(dim=-1, descending=True)[:, :kept]
    slot_rank = torch.arange(num_replicas) % kept
    phy2log = hot.gather(1, slot_rank.expand(layers, num_replicas))
    logcnt = torch.zeros(layers, experts, dtype=torch.int64)
    logcnt.scatter_add_(1, phy2log, torch.ones_like(phy2log))
    width = int(logcnt.max())
    log2phy = torch.full((layers, experts, width), -1, dtype=torch.int64)
    for k in range(width):
        slots = torch.arange(kept) + k * kept
        present = slots < num_replicas
        values = torch.where(present, slots, torch.tensor(-1)).expand(layers, kept)
        log2phy[:, :, k].scatter_(1, hot, values)
    return phy2log, log2phy, logcnt
