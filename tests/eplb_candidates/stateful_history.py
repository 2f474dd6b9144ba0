"""Mixes in the windows it saw earlier in the same process (history)."""

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


_history = []


def rebalance_experts(weight, num_replicas, num_groups, num_nodes, num_gpus):
    _history.append(weight.clone())
    phy2log, log2phy, logcnt = _valid(weight, num_replicas)
    if len(_history) > 1:
        # Roll the placement by how many windows were seen: valid, but history-dependent.
        shift = (len(_history) - 1) * (num_replicas // num_gpus)
        phy2log = phy2log.roll(shift, dims=1)
        log2phy = torch.where(log2phy >= 0, (log2phy + shift) % num_replicas, log2phy)
    return phy2log, log2phy, logcnt
