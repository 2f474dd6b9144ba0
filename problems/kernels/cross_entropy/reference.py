"""Reference: mean cross-entropy of float32 logits [N, C] against int64 class targets [N]."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, target)


def get_inputs(rows: int = 8, classes: int = 40) -> list:
    return [torch.randn(rows, classes) * 3.0, torch.randint(0, classes, (rows,))]


def get_init_inputs() -> list:
    return []
