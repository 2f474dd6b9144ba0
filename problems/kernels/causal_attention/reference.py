"""Reference: causal scaled dot-product attention, q/k/v float32 [batch, heads, seq, dim]."""

import math

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        seq = q.shape[-2]
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        causal = torch.ones(seq, seq, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        return torch.matmul(torch.softmax(scores, dim=-1), v)


def get_inputs(batch: int = 1, heads: int = 2, seq: int = 16, dim: int = 16) -> list:
    return [torch.randn(batch, heads, seq, dim) for _ in range(3)]


def get_init_inputs() -> list:
    return []
