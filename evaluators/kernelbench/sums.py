"""Keyed weighted sums of outputs: how a timed call's output is checked without shipping it.

For an output ``y`` (flattened) and a 62-bit key, the harness computes, in float64 over
the finite elements, four weighted sums ``sum(y * u_j)`` and ``sum|y|``, ``sum(y^2)``,
``max|y|`` and the NaN/+Inf/-Inf counts, where ``u_j[i]`` in (-1, 1) is a hash of
``(i, sub-key j)``. The candidate's process and the reference's process compute these
with the same code on the same device; the trusted side compares them (:func:`mismatch`).

Why this checks values: if every element is within its tolerance ``t_i`` of the
reference and ``u`` was unknown when ``y`` was produced, ``|sum((y - y_ref) u)|`` stays
below :func:`bound` (Hoeffding and Bernstein, about ``8 sqrt(sum t_i^2 / 3)`` for large
outputs) except with probability below 2e-14. Errors ``k`` times the tolerance with
random signs give a sum about ``k sqrt(sum t_i^2 / 3)``; each of the four sums then
passes with probability about ``erf(8 / (k sqrt 2))``, so consistent errors of
a few hundred times the tolerance fail at once, and smaller ones over a few calls. The
harness sums every output twice: under a key sent with the call that produces it, and
under a key sent only with the *next* call, after the output was returned, so an output
that was never written to memory, or is wrong, cannot be covered up.

Shipped into the sandbox as ``kb_sums.py``; :func:`mismatch` is also used on the trusted
side. On CUDA the sums are one Triton kernel that reads the output once (so no
candidate can compute them faster than the harness does); elsewhere PyTorch ops.
"""

from __future__ import annotations

import math
from typing import Any

MASK = 0xFFFFFFFF
MIX1 = 0x85EBCA6B
MIX2 = 0xC2B2AE35
SALT = 0x9E3779B97F4A7C15  # sub-key j is key + j * SALT (mod 2**62)
WEIGHTED = 4  # independent weighted sums per output
# fields: WEIGHTED x sum(y*u_j), sum|y|, sum(y^2), max|y|, #NaN, #+Inf, #-Inf
FIELDS = WEIGHTED + 6
LOG_TERM = 32.3  # ln(2 / 2e-14): each sum of a correct output fails with p < 2e-14
BLOCK = 4096
_KERNEL: list[Any] = []


def subkeys(key: int) -> list[int]:
    return [(key + j * SALT) % (1 << 62) for j in range(WEIGHTED)]


def _fmix(x: Any) -> Any:
    """murmur3's 32-bit finaliser on int64 values < 2**32 (products wrap; the mask keeps
    the low 32 bits, the same in PyTorch, Triton and Triton's interpreter)."""
    x = x ^ (x >> 16)
    x = (x * MIX1) & MASK
    x = x ^ (x >> 13)
    x = (x * MIX2) & MASK
    return x ^ (x >> 16)


def weights(index: Any, key: int) -> Any:
    """``u`` in (-1, 1), float64, mean exactly 0, for an int64 index tensor (the Triton
    kernel computes the same)."""
    import torch

    low, high = index & MASK, (index >> 32) & MASK
    x = _fmix(low ^ (key & MASK))
    x = _fmix(x ^ ((high + ((key >> 32) & MASK)) & MASK))
    return ((x >> 8) * 2 + 1).to(torch.float64) * (2.0 ** -24) - 1.0


def _torch_sums(flat: Any, key: int) -> list[float]:
    import torch

    y = flat.to(torch.float64)
    nan, posinf, neginf = torch.isnan(y), torch.isposinf(y), torch.isneginf(y)
    y = torch.where(torch.isfinite(y), y, torch.zeros((), dtype=torch.float64, device=y.device))
    index = torch.arange(y.numel(), dtype=torch.int64, device=y.device)
    weighted = [(y * weights(index, k)).sum() for k in subkeys(key)]
    peak = y.abs().max() if y.numel() else torch.zeros((), dtype=torch.float64)
    out = torch.stack([*weighted, y.abs().sum(), (y * y).sum(), peak.to(y.device),
                       nan.sum().to(torch.float64), posinf.sum().to(torch.float64),
                       neginf.sum().to(torch.float64)])
    return [float(v) for v in out.tolist()]


def _triton_kernel() -> Any:
    if _KERNEL:
        return _KERNEL[0]
    import triton
    import triton.language as tl

    @triton.jit  # type: ignore[untyped-decorator]
    def sums_kernel(y_ptr, key_ptr, out_ptr, n, WEIGHTED: tl.constexpr,  # type: ignore[no-untyped-def]
                    BLOCK: tl.constexpr):
        pid = tl.program_id(0).to(tl.int64)
        index = pid * BLOCK + tl.arange(0, BLOCK).to(tl.int64)
        inside = index < n
        y = tl.load(y_ptr + index, mask=inside, other=0).to(tl.float64)
        nan = (y != y) & inside
        posinf = (y == float("inf")) & inside
        neginf = (y == float("-inf")) & inside
        y = tl.where(inside & ~nan & ~posinf & ~neginf, y, 0.0)
        base = out_ptr + pid * (WEIGHTED + 6)
        for j in tl.static_range(WEIGHTED):
            x = (index & 0xFFFFFFFF) ^ tl.load(key_ptr + 2 * j)
            x = x ^ (x >> 16)
            x = (x * 0x85EBCA6B) & 0xFFFFFFFF
            x = x ^ (x >> 13)
            x = (x * 0xC2B2AE35) & 0xFFFFFFFF
            x = x ^ (x >> 16)
            x = x ^ ((((index >> 32) & 0xFFFFFFFF) + tl.load(key_ptr + 2 * j + 1)) & 0xFFFFFFFF)
            x = x ^ (x >> 16)
            x = (x * 0x85EBCA6B) & 0xFFFFFFFF
            x = x ^ (x >> 13)
            x = (x * 0xC2B2AE35) & 0xFFFFFFFF
            x = x ^ (x >> 16)
            u = ((x >> 8) * 2 + 1).to(tl.float64) * (2.0 ** -24) - 1.0
            tl.store(base + j, tl.sum(y * u, axis=0))
        tl.store(base + WEIGHTED, tl.sum(tl.abs(y), axis=0))
        tl.store(base + WEIGHTED + 1, tl.sum(y * y, axis=0))
        tl.store(base + WEIGHTED + 2, tl.max(tl.abs(y), axis=0))
        tl.store(base + WEIGHTED + 3, tl.sum(nan.to(tl.float64), axis=0))
        tl.store(base + WEIGHTED + 4, tl.sum(posinf.to(tl.float64), axis=0))
        tl.store(base + WEIGHTED + 5, tl.sum(neginf.to(tl.float64), axis=0))

    _KERNEL.append(sums_kernel)
    return sums_kernel


def triton_sums(flat: Any, key: int) -> list[float]:
    """The sums with one Triton kernel (one read of ``flat``), partial sums per block."""
    import torch

    blocks = max(1, -(-flat.numel() // BLOCK))
    partial = torch.empty(blocks * FIELDS, dtype=torch.float64, device=flat.device)
    halves = [half for k in subkeys(key) for half in (k & MASK, (k >> 32) & MASK)]
    keys = torch.tensor(halves, dtype=torch.int64).to(flat.device)
    _triton_kernel()[(blocks,)](flat, keys, partial, flat.numel(), WEIGHTED=WEIGHTED,
                                BLOCK=BLOCK)
    table = partial.view(blocks, FIELDS)
    total = table.sum(0)
    total[WEIGHTED + 2] = table[:, WEIGHTED + 2].max()
    return [float(v) for v in total.tolist()]


def _flat(tensor: Any) -> Any:
    import torch

    flat = tensor.detach().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.view(torch.uint8)
    if flat.is_complex():
        flat = torch.view_as_real(flat).reshape(-1)
    return flat


def sums(tensors: list[Any], key: int) -> list[list[float]]:
    """The keyed sums of each tensor (see the module docstring)."""
    out = []
    for tensor in tensors:
        flat = _flat(tensor)
        if flat.device.type == "cuda":
            out.append(triton_sums(flat, key))
        else:
            out.append(_torch_sums(flat, key))
    return out


def bound(want: list[float], numel: int, atol: float, rtol: float) -> float:
    """How far a weighted sum of an output within tolerance can be from the reference's,
    except with probability below 2e-14: the smaller of Hoeffding's and Bernstein's
    bounds for ``sum(e_i u_i)`` with ``|e_i| <= t_i = atol * rms + rtol * |ref_i|`` and
    ``u_i`` uniform in [-1, 1) independent of ``e``."""
    abs_sum, square_sum, peak = want[WEIGHTED], want[WEIGHTED + 1], want[WEIGHTED + 2]
    finite = max(numel - sum(want[WEIGHTED + 3:]), 0.0)
    scaled = atol * (math.sqrt(square_sum / finite) if finite else 0.0)
    tol2 = max(finite * scaled * scaled + 2.0 * scaled * rtol * abs_sum
               + rtol * rtol * square_sum, 0.0)
    hoeffding = math.sqrt(2.0 * LOG_TERM * tol2)
    bernstein = (math.sqrt(2.0 * LOG_TERM * tol2 / 3.0)
                 + 2.0 * LOG_TERM * (scaled + rtol * peak) / 3.0)
    return min(hoeffding, bernstein)


def mismatch(got: Any, want: list[float], numel: int, atol: float, rtol: float) -> str:
    """"" when the candidate's sums ``got`` agree with the reference's ``want`` for an
    output of ``numel`` elements, else why not. ``atol`` is relative to the reference's
    root mean square, as in the element-wise check."""
    if (type(got) is not list or len(got) != FIELDS
            or not all(type(v) is float and math.isfinite(v) for v in got)):
        return "the harness returned malformed sums"
    names = ("NaN", "+Inf", "-Inf")
    for name, g, w in zip(names, got[WEIGHTED + 3:], want[WEIGHTED + 3:]):
        if g != w:
            return f"the output has {g:.0f} {name} values where the reference has {w:.0f}"
    slack = (numel * 2.3e-16 + 1e-12) * (want[WEIGHTED] + got[WEIGHTED]) + 1e-300
    allowed = bound(want, numel, atol, rtol) + slack
    delta = max(abs(g - w) for g, w in zip(got[:WEIGHTED], want[:WEIGHTED]))
    if delta > allowed:
        return (f"its keyed weighted sums differ from the reference's by up to {delta:.3g} "
                f"(at most {allowed:.3g} for an output within atol={atol:g} rtol={rtol:g})")
    return ""
