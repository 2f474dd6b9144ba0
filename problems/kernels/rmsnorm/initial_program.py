"""RMSNorm over the last dimension (eps = 1e-6) with a weight, as a Triton kernel."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


# EVOLVE-BLOCK-START
@triton.jit
def rmsnorm_kernel(x_ptr, w_ptr, out_ptr, n_cols, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    mask = offsets < n_cols
    x = tl.load(x_ptr + row * n_cols + offsets, mask=mask, other=0.0)
    rms = tl.sqrt(tl.sum(x * x, axis=0) / n_cols + eps)
    w = tl.load(w_ptr + offsets, mask=mask)
    tl.store(out_ptr + row * n_cols + offsets, x / rms * w, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        rows, cols = x.shape
        out = torch.empty_like(x)
        rmsnorm_kernel[(rows,)](x, weight.contiguous(), out, cols, 1e-6,
                                BLOCK=triton.next_power_of_2(cols))
        return out
# EVOLVE-BLOCK-END
