"""Reference: row-wise softmax over the last dimension (KernelBench level-1 style)."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, dim=-1)


def get_inputs(rows: int = 4, cols: int = 64) -> list:
    # Scaled so rows have a few dominant entries (a flat output would hide errors).
    return [torch.randn(rows, cols) * 3.0]


def get_init_inputs() -> list:
    return []
