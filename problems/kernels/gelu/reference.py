"""Reference: exact (erf) GELU of a float32 matrix."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x)


def get_inputs(rows: int = 4, cols: int = 64) -> list:
    return [torch.randn(rows, cols) * 2.0]


def get_init_inputs() -> list:
    return []
