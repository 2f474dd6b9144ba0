"""Mean over dimension 1 of a (batch, d1, d2) tensor as a Triton kernel. MODE: correct,
zeros, constant, off_by_one (divides by d1 + 1), dropped_tile (the last column block
is never computed)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

MODE = "correct"


@triton.jit
def mean_kernel(x_ptr, y_ptr, d1, d2, denominator, KIND: tl.constexpr, BLOCK_I: tl.constexpr,
                BLOCK_J: tl.constexpr):
    b = tl.program_id(0)
    cols = tl.program_id(1) * BLOCK_J + tl.arange(0, BLOCK_J)
    col_mask = cols < d2
    total = tl.zeros((BLOCK_J,), dtype=tl.float32)
    for start in range(0, d1, BLOCK_I):
        rows = start + tl.arange(0, BLOCK_I)
        mask = (rows[:, None] < d1) & col_mask[None, :]
        block = tl.load(x_ptr + b * d1 * d2 + rows[:, None] * d2 + cols[None, :], mask=mask,
                        other=0.0)
        total += tl.sum(block, axis=0)
    y = total / denominator
    if KIND == 1:
        y = y * 0.0
    if KIND == 2:
        y = y * 0.0 + 0.5
    tl.store(y_ptr + b * d2 + cols, y, mask=col_mask)


class ModelNew(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        batch, d1, d2 = x.shape
        y = torch.zeros((batch, d2), dtype=x.dtype, device=x.device)
        block_j = 32
        tiles = triton.cdiv(d2, block_j) - (MODE == "dropped_tile")
        kind = {"zeros": 1, "constant": 2}.get(MODE, 0)
        mean_kernel[(batch, tiles)](x, y, d1, d2, float(d1 + (MODE == "off_by_one")),
                                    KIND=kind, BLOCK_I=32, BLOCK_J=block_j)
        return y
