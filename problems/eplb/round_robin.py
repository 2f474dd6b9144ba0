"""Expert-parallel load balancer, simple baseline: hottest experts get one extra replica,
slots are dealt to GPUs in expert order without looking at load."""

from __future__ import annotations

import torch


# EVOLVE-BLOCK-START
def rebalance_experts(
    weight: torch.Tensor, num_replicas: int, num_groups: int, num_nodes: int, num_gpus: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return phy2log [layers, replicas], log2phy [layers, experts, X], logcnt [layers, experts].

    Every expert gets one replica; the (num_replicas - experts) hottest experts get a
    second one (extra slots wrap around if there are more extras than experts). Slots
    are then filled in expert order, so GPU g holds a contiguous run of experts.
    """
    layers, experts = weight.shape
    extra = num_replicas - experts
    load = weight.float()
    logcnt = torch.ones(layers, experts, dtype=torch.int64)
    hottest = load.argsort(dim=-1, descending=True)
    for k in range(extra):
        logcnt.scatter_add_(
            1, hottest[:, k % experts].unsqueeze(1), torch.ones(layers, 1, dtype=torch.int64)
        )
    # Expert e occupies logcnt[e] consecutive slots, in expert order.
    experts_ids = torch.arange(experts).expand(layers, experts)
    phy2log = torch.repeat_interleave(experts_ids.reshape(-1), logcnt.reshape(-1)).view(
        layers, num_replicas
    )
    first_slot = torch.cumsum(logcnt, dim=-1) - logcnt
    max_count = int(logcnt.max().item())
    offsets = torch.arange(max_count)
    log2phy = first_slot.unsqueeze(-1) + offsets
    log2phy = torch.where(offsets < logcnt.unsqueeze(-1), log2phy, torch.full_like(log2phy, -1))
    return phy2log, log2phy, logcnt


# EVOLVE-BLOCK-END
