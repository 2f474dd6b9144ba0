"""Reference: RMSNorm over the last dimension with a weight (eps = 1e-6)."""

import torch
import torch.nn as nn

EPS = 1e-6


class Model(nn.Module):
    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        rms = torch.sqrt(torch.mean(x * x, dim=-1, keepdim=True) + EPS)
        return x / rms * weight


def get_inputs(rows: int = 4, cols: int = 64) -> list:
    return [torch.randn(rows, cols) * 2.0, torch.randn(cols)]


def get_init_inputs() -> list:
    return []
