"""Reference: elementwise sum of two float32 vectors."""

import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


def get_inputs(n: int = 1000) -> list:
    return [torch.randn(n), torch.randn(n)]


def get_init_inputs() -> list:
    return []
