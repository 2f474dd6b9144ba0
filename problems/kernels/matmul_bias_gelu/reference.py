"""Reference: GELU(x @ w + b), the fused linear layer of a transformer MLP (KernelBench level 2 style)."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.gelu(torch.matmul(x, w) + b)


def get_inputs(m: int = 16, k: int = 32, n: int = 24) -> list:
    return [torch.randn(m, k), torch.randn(k, n) / k**0.5, torch.randn(n)]


def get_init_inputs() -> list:
    return []
