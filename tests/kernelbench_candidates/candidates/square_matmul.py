"""C = A @ B as a tiled Triton kernel. MODE: correct, zeros, constant, off_by_one (the
reduction stops one short of K), dropped_tile (the last output tile is never computed)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl

MODE = "correct"
BLOCK = 32


@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, n, k_end, KIND: tl.constexpr, BLOCK: tl.constexpr):
    rows = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    cols = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
    acc = tl.zeros((BLOCK, BLOCK), dtype=tl.float32)
    for start in range(0, n, BLOCK):
        ks = start + tl.arange(0, BLOCK)
        a = tl.load(a_ptr + rows[:, None] * n + ks[None, :],
                    mask=(rows[:, None] < n) & (ks[None, :] < k_end), other=0.0)
        b = tl.load(b_ptr + ks[:, None] * n + cols[None, :],
                    mask=(ks[:, None] < k_end) & (cols[None, :] < n), other=0.0)
        acc += tl.dot(a, b)
    if KIND == 1:
        acc = acc * 0.0
    if KIND == 2:
        acc = acc * 0.0 + 0.5
    tl.store(c_ptr + rows[:, None] * n + cols[None, :], acc,
             mask=(rows[:, None] < n) & (cols[None, :] < n))


class ModelNew(nn.Module):
    def forward(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        A, B = A.contiguous(), B.contiguous()
        n = A.shape[0]
        c = torch.zeros((n, n), dtype=A.dtype, device=A.device)
        tiles = triton.cdiv(n, BLOCK)
        kind = {"zeros": 1, "constant": 2}.get(MODE, 0)
        grid = (tiles, tiles - (MODE == "dropped_tile"))
        matmul_kernel[grid](A, B, c, n, n - (MODE == "off_by_one"), KIND=kind, BLOCK=BLOCK)
        return c
