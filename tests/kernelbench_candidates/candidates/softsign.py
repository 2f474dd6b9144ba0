"""Softsign as a Triton kernel. MODE (set by the test): correct, zeros, constant,
off_by_one (x / (2 + |x|)), dropped_tile (the last block is never computed)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

MODE = "correct"
BLOCK = 1024


@triton.jit
def softsign_kernel(x_ptr, y_ptr, n, one, KIND: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask)
    y = x / (one + tl.abs(x))
    if KIND == 1:
        y = y * 0.0
    if KIND == 2:
        y = y * 0.0 + 0.5
    tl.store(y_ptr + offsets, y, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        y = torch.zeros_like(x)
        n = x.numel()
        blocks = triton.cdiv(n, BLOCK) - (MODE == "dropped_tile")
        kind = {"zeros": 1, "constant": 2}.get(MODE, 0)
        softsign_kernel[(blocks,)](x, y, n, 2.0 if MODE == "off_by_one" else 1.0, KIND=kind,
                                   BLOCK=BLOCK)
        return y
