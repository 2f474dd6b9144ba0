"""Correct softmax: two passes over the row in fixed-size chunks (online max/sum)."""

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, y_ptr, n_cols, shift, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    offsets = tl.arange(0, BLOCK)
    mask = offsets < n_cols
    x = tl.load(x_ptr + row * n_cols + offsets, mask=mask, other=-float("inf"))
    x = x - tl.max(x, axis=0)
    e = tl.exp(x)
    tl.store(y_ptr + row * n_cols + offsets, e / tl.sum(e, axis=0) + shift, mask=mask)


def launch(x, y, shift=0.0):
    rows, cols = x.shape
    softmax_kernel[(rows,)](x, y, cols, shift, BLOCK=triton.next_power_of_2(cols))


@triton.jit
def chunked_softmax_kernel(x_ptr, y_ptr, n_cols, CHUNK: tl.constexpr):
    row = tl.program_id(0)
    running_max = -float("inf")
    running_sum = 0.0
    for start in range(0, n_cols, CHUNK):
        offsets = start + tl.arange(0, CHUNK)
        x = tl.load(x_ptr + row * n_cols + offsets, mask=offsets < n_cols, other=-float("inf"))
        new_max = tl.maximum(running_max, tl.max(x, axis=0))
        running_sum = running_sum * tl.exp(running_max - new_max) + tl.sum(tl.exp(x - new_max), axis=0)
        running_max = new_max
    for start in range(0, n_cols, CHUNK):
        offsets = start + tl.arange(0, CHUNK)
        mask = offsets < n_cols
        x = tl.load(x_ptr + row * n_cols + offsets, mask=mask, other=-float("inf"))
        tl.store(y_ptr + row * n_cols + offsets, tl.exp(x - running_max) / running_sum, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        x = x.contiguous()
        y = torch.empty_like(x)
        chunked_softmax_kernel[(x.shape[0],)](x, y, x.shape[1], CHUNK=32)
        return y
