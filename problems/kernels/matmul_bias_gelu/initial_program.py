"""GELU(x @ w + b) for float32 x [M, K], w [K, N], b [N], as one fused Triton kernel."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


# EVOLVE-BLOCK-START
@triton.jit
def matmul_bias_gelu_kernel(x_ptr, w_ptr, b_ptr, out_ptr, M, N, K,
                            BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                            BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        ks = k0 + tl.arange(0, BLOCK_K)
        a = tl.load(x_ptr + rows[:, None] * K + ks[None, :],
                    mask=(rows[:, None] < M) & (ks[None, :] < K), other=0.0)
        w = tl.load(w_ptr + ks[:, None] * N + cols[None, :],
                    mask=(ks[:, None] < K) & (cols[None, :] < N), other=0.0)
        acc += tl.dot(a, w, input_precision="ieee")
    bias = tl.load(b_ptr + cols, mask=cols < N, other=0.0)
    acc = acc + bias[None, :]
    out = 0.5 * acc * (1.0 + tl.erf(acc * 0.7071067811865476))
    tl.store(out_ptr + rows[:, None] * N + cols[None, :], out,
             mask=(rows[:, None] < M) & (cols[None, :] < N))


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x, w, b = x.contiguous(), w.contiguous(), b.contiguous()
        m, k = x.shape
        n = w.shape[1]
        out = torch.empty((m, n), dtype=x.dtype, device=x.device)
        block_m, block_n, block_k = 16, 16, 16
        grid = (triton.cdiv(m, block_m), triton.cdiv(n, block_n))
        matmul_bias_gelu_kernel[grid](x, w, b, out, m, n, k, BLOCK_M=block_m, BLOCK_N=block_n,
                                      BLOCK_K=block_k)
        return out
# EVOLVE-BLOCK-END
