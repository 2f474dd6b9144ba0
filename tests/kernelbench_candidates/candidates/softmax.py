"""Row softmax as a Triton kernel (one program per row). MODE: correct, zeros, constant,
off_by_one (denominator + 1), dropped_tile (the last row is never computed)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

MODE = "correct"


@triton.jit
def softmax_kernel(x_ptr, y_ptr, cols, extra, KIND: tl.constexpr, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    mask = offsets < cols
    x = tl.load(x_ptr + row * cols + offsets, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    y = e / (tl.sum(e, axis=0) + extra)
    if KIND == 1:
        y = y * 0.0
    if KIND == 2:
        y = y * 0.0 + 0.5
    tl.store(y_ptr + row * cols + offsets, y, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        y = torch.zeros_like(x)
        kind = {"zeros": 1, "constant": 2}.get(MODE, 0)
        softmax_kernel[(rows - (MODE == "dropped_tile"),)](
            x, y, cols, 1.0 if MODE == "off_by_one" else 0.0, KIND=kind,
            BLOCK=triton.next_power_of_2(cols))
        return y
