"""RMS normalisation over dimension 1 of a (batch, features, d1, d2) tensor as a Triton
kernel. MODE: correct, zeros, constant, off_by_one (mean of squares over features + 1),
dropped_tile (the last block of positions is never computed)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

MODE = "correct"


@triton.jit
def rms_kernel(x_ptr, y_ptr, features, positions, denominator, eps, KIND: tl.constexpr,
               BLOCK_F: tl.constexpr, BLOCK_P: tl.constexpr):
    b = tl.program_id(0)
    p = tl.program_id(1) * BLOCK_P + tl.arange(0, BLOCK_P)
    f = tl.arange(0, BLOCK_F)
    mask = (f[:, None] < features) & (p[None, :] < positions)
    where = b * features * positions + f[:, None] * positions + p[None, :]
    x = tl.load(x_ptr + where, mask=mask, other=0.0)
    rms = tl.sqrt(tl.sum(x * x, axis=0) / denominator + eps)
    y = x / rms[None, :]
    if KIND == 1:
        y = y * 0.0
    if KIND == 2:
        y = y * 0.0 + 0.5
    tl.store(y_ptr + where, y, mask=mask)


class ModelNew(nn.Module):
    def __init__(self, num_features: int, eps: float = 1e-5):
        super().__init__()
        self.num_features = num_features
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        batch, features = x.shape[0], x.shape[1]
        positions = x[0, 0].numel()
        y = torch.zeros_like(x)
        block_p = 64
        tiles = triton.cdiv(positions, block_p) - (MODE == "dropped_tile")
        kind = {"zeros": 1, "constant": 2}.get(MODE, 0)
        rms_kernel[(batch, tiles)](x, y, features, positions,
                                   float(features + (MODE == "off_by_one")), self.eps,
                                   KIND=kind, BLOCK_F=triton.next_power_of_2(features),
                                   BLOCK_P=block_p)
        return y
