"""A slot holds an expert id past the last expert."""

import torch


def _valid(weight, num_replicas):
    """Slot p holds expert p % experts (valid, load-blind)."""
    layers, experts = weight.shape
    phy2log = (torch.arange(num_replicas) % experts).expand(layers, num_replicas).clone()
    logcnt = torch.zeros(layers, experts, dtype=torch.int64)
    logcnt.scatter_add_(1, phy2log, torch.ones_like(phy2log))
    width = int(logcnt.max())
    log2phy = torch.full((layers, experts, width), -1, dtype=torch.int64)
    for k in range(width):
        slots = torch.arange(experts) + k * experts
        log2phy[:, :, k] = torch.where(slots < num_replicas, slots, torch.tensor(-1)).expand(
            layers, experts
        )
    return phy2log, log2phy, logcnt


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    phy2log, log2phy, logcnt = _valid(weight, num_replicas)
    phy2log[3, 5] = weight.shape[1]
    return phy2log, log2phy, logcnt
