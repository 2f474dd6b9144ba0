"""Reference: LayerNorm over the last dimension with an affine weight and bias."""

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-5


class Model(nn.Module):
    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), weight, bias, EPS)


def get_inputs(rows: int = 4, cols: int = 64) -> list:
    # Non-zero mean and non-unit scale so that skipping a step shows.
    x = torch.randn(rows, cols) * 2.0 + 0.5
    return [x, torch.randn(cols), torch.randn(cols)]


def get_init_inputs() -> list:
    return []
