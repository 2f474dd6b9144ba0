"""Trusted-side comparison of one output with the reference's.

Tolerance that scale cannot game: element ``i`` passes when
``|out_i - ref_i| <= atol * rms(ref) + rtol * |ref_i|``, where ``rms(ref)`` is the root
mean square of the reference output itself, so multiplying a problem's outputs by any
factor leaves the verdict unchanged (an absolute ``atol`` would accept all zeros for a
softmax whose outputs are all below it). Whatever the tolerance, an output that is all
zeros or constant where the reference is not is rejected with that reason first, and one
that passes the tolerance but is uncorrelated with the reference (Pearson correlation
below ``min_correlation``) is rejected as such.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evolve.evaluation.plain import TensorValue

# aten ops a Triton candidate may run in forward outside its kernels: allocation, views,
# copies, metadata. Anything else is computation done in PyTorch rather than Triton.
MEMORY_AND_VIEW_OPS = frozenset({
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros",
    "zeros_like", "new_zeros", "ones", "ones_like", "new_ones", "full", "full_like",
    "new_full", "fill_", "zero_", "copy_", "clone", "contiguous", "_to_copy", "to",
    "view", "_unsafe_view", "reshape", "as_strided", "t", "transpose", "permute", "expand",
    "squeeze", "unsqueeze", "flatten", "unflatten", "select", "slice", "narrow", "detach",
    "alias", "lift_fresh", "resize_", "split", "chunk", "unbind", "view_as", "arange",
    "is_same_size", "_reshape_alias", "unsafe_view", "split_with_sizes", "stride", "size",
    "sym_size", "sym_stride", "sym_numel", "numel", "dim", "is_contiguous", "item",
    "_local_scalar_dense", "scalar_tensor",
})
MIN_CORRELATION_ELEMENTS = 4


def as_array(value: Any) -> np.ndarray:
    """An output as numpy: a :class:`TensorValue`, a harness sample ``{"sample": ...}``,
    or an array."""
    if isinstance(value, dict) and "sample" in value:
        value = value["sample"]
    if isinstance(value, TensorValue):
        return np.asarray(value.array).reshape(value.shape)
    return np.asarray(value)


def _where(arr: np.ndarray, flat_index: int, sampled: bool) -> str:
    if sampled:
        return f"sampled element {flat_index}"
    if arr.ndim == 0:
        return "[]"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, arr.shape)) + "]"


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _degenerate(g: np.ndarray, w: np.ndarray) -> str:
    """All zeros or constant while the reference is not ("" otherwise)."""
    if not w.size or not np.any(w != 0):
        return ""
    if not np.any(g != 0):
        return "output is all zeros (the reference is not)"
    if w.size >= 2 and np.ptp(w) > 0 and np.ptp(g) == 0:
        return f"output is the constant {g.flat[0]:.6g} everywhere (the reference is not constant)"
    return ""


def _uncorrelated(g: np.ndarray, w: np.ndarray, min_correlation: float) -> str:
    if w.size < MIN_CORRELATION_ELEMENTS or np.ptp(w) == 0:
        return ""
    gc, wc = g - g.mean(), w - w.mean()
    denominator = float(np.sqrt((gc * gc).sum() * (wc * wc).sum()))
    correlation = float((gc * wc).sum()) / denominator if denominator > 0 else 0.0
    if correlation < min_correlation:
        return (f"output is uncorrelated with the reference (correlation {correlation:.3f}, "
                f"needs at least {min_correlation:g})")
    return ""


def compare_values(got: np.ndarray, want: np.ndarray, atol: float, rtol: float,
                   min_correlation: float = 0.9, sampled: bool = False
                   ) -> tuple[str, float, float]:
    """(failure text or "", max abs error, max rel error) for one output."""
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    finite_want = np.isfinite(w)
    bad_nonfinite = ~np.isfinite(g) & finite_want
    if bad_nonfinite.any():
        idx = int(np.flatnonzero(bad_nonfinite)[0])
        count = int(bad_nonfinite.sum())
        text = (f"output has {count} NaN/Inf values where the reference is finite "
                f"(first at {_where(w, idx, sampled)}; an output never written, e.g. "
                "torch.empty, looks like this)")
        return text, float("inf"), float("inf")
    mismatch_special = ~finite_want & ~((np.isnan(w) & np.isnan(g)) | (w == g))
    if mismatch_special.any():
        idx = int(np.flatnonzero(mismatch_special)[0])
        return (f"reference is {w.flat[idx]} at {_where(w, idx, sampled)} but output is "
                f"{g.flat[idx]}", float("inf"), float("inf"))
    gf, wf = g[finite_want], w[finite_want]
    diff = np.abs(gf - wf)
    max_abs = float(diff.max()) if diff.size else 0.0
    max_rel = float((diff / np.maximum(np.abs(wf), 1e-12)).max()) if diff.size else 0.0
    degenerate = _degenerate(gf, wf)
    if degenerate:
        return degenerate, max_abs, max_rel
    scale = float(np.sqrt(np.mean(wf * wf))) if wf.size else 0.0
    allowed = atol * scale + rtol * np.abs(w)
    full_diff = np.where(finite_want, np.abs(g - w), 0.0)
    wrong = full_diff > allowed
    if wrong.any():
        idx = int(np.argmax(np.where(wrong, full_diff - allowed, -np.inf)))
        share = 100.0 * float(wrong.mean())
        text = (f"max abs error {max_abs:.3g} (rel {max_rel:.3g}); worst at "
                f"{_where(w, idx, sampled)}: got {g.flat[idx]:.6g}, expected {w.flat[idx]:.6g}; "
                f"{share:.1f}% of elements outside atol={atol:g} (x rms of the reference "
                f"{scale:.3g}) rtol={rtol:g}")
        return text, max_abs, max_rel
    return _uncorrelated(gf, wf, min_correlation), max_abs, max_rel
