"""Trusted-side correctness checks on what the harness sent back.

Values are authoritative: every output is compared here with the reference computed in
the trusted process. Facts the harness reports from inside the candidate's process
(storage aliasing, kernel launches, aten ops) are defence in depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class StepVerdict:
    """Outcome of checking all steps of one shape."""

    reason: str = ""
    detail: str = ""
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    checked_calls: int = 0
    value_sets: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.reason


def _np(value: Any) -> np.ndarray:
    if isinstance(value, TensorValue):
        return np.asarray(value.array).reshape(value.shape)
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _dtype_name(value: Any) -> str:
    return value.dtype if isinstance(value, TensorValue) else str(value.dtype)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.shape)


def _where(arr: np.ndarray, flat_index: int) -> str:
    if arr.ndim == 0:
        return "[]"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat_index, arr.shape)) + "]"


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def compare_values(got: np.ndarray, want: np.ndarray, atol: float, rtol: float
                   ) -> tuple[str, float, float]:
    """(failure text or "", max abs error, max rel error) for one output tensor."""
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    finite_want = np.isfinite(w)
    bad_nonfinite = ~np.isfinite(g) & finite_want
    if bad_nonfinite.any():
        idx = int(np.flatnonzero(bad_nonfinite)[0])
        count = int(bad_nonfinite.sum())
        text = (f"output has {count} NaN/Inf values where the reference is finite "
                f"(first at {_where(w, idx)}; an output never written, e.g. torch.empty, "
                "looks like this)")
        return text, float("inf"), float("inf")
    mismatch_special = ~finite_want & ~((np.isnan(w) & np.isnan(g)) | (w == g))
    if mismatch_special.any():
        idx = int(np.flatnonzero(mismatch_special)[0])
        return (f"reference is {w.flat[idx]} at {_where(w, idx)} but output is {g.flat[idx]}",
                float("inf"), float("inf"))
    diff = np.where(finite_want, np.abs(g - w), 0.0)
    max_abs = float(diff.max()) if diff.size else 0.0
    rel = diff / np.maximum(np.abs(w), 1e-12)
    max_rel = float(rel.max()) if rel.size else 0.0
    allowed = atol + rtol * np.abs(w)
    wrong = diff > allowed
    if wrong.any():
        idx = int(np.argmax(np.where(wrong, diff - allowed, -np.inf)))
        share = 100.0 * float(wrong.mean())
        text = (f"max abs error {max_abs:.3g} (rel {max_rel:.3g}); worst at {_where(w, idx)}: "
                f"got {g.flat[idx]:.6g}, expected {w.flat[idx]:.6g}; {share:.1f}% of elements "
                f"outside atol={atol:g} rtol={rtol:g}")
        return text, max_abs, max_rel
    return "", max_abs, max_rel


def check_steps(steps: list[dict[str, Any]], expected: list[list[Any]], results: Any,
                atol: float, rtol: float, require_triton: bool, extra_allowed_ops: set[str],
                forbidden_aten_ops: set[str], deterministic: bool) -> StepVerdict:
    """Check the harness results of one shape's steps against the reference outputs."""
    verdict = StepVerdict()
    if not isinstance(results, list) or not results:
        verdict.reason = "the harness returned no step results"
        return verdict
    previous_outputs: list[np.ndarray] | None = None
    launched_before = False
    allowed_ops = MEMORY_AND_VIEW_OPS | extra_allowed_ops
    for n, (step, want, got) in enumerate(zip(steps, expected, results)):
        label = f"call {n + 1} ({_describe_step(step['kind'])})"
        if not isinstance(got, dict):
            verdict.reason = f"{label}: malformed harness result"
            return verdict
        if "error" in got:
            verdict.reason = f"{label}: ModelNew.forward raised {got['error'].splitlines()[0]}"
            verdict.detail = got["error"]
            return verdict
        structure = got.get("structure", "")
        outputs = got.get("outputs", [])
        want_structure = "tensor" if len(want) == 1 else f"tuple:{len(want)}"
        if structure.startswith("other:") or len(outputs) != len(want):
            verdict.reason = (f"{label}: forward returned {structure.removeprefix('other:')} "
                              f"with {len(outputs)} tensors; expected {want_structure}")
            return verdict
        for k, (o, w) in enumerate(zip(outputs, want)):
            name = "output" if len(want) == 1 else f"output {k}"
            if _dtype_name(o) != str(w.dtype):
                verdict.reason = f"{label}: wrong dtype: {name} is {_dtype_name(o)}, expected {w.dtype}"
                return verdict
            if _shape(o) != tuple(w.shape):
                verdict.reason = (f"{label}: wrong shape: {name} is {list(_shape(o))}, "
                                  f"expected {list(w.shape)}")
                return verdict
        if got.get("aliases"):
            out_i, in_i = got["aliases"][0]
            verdict.reason = (f"{label}: output {out_i} shares memory with input {in_i}; return "
                              "a new tensor, not an input or a view of one")
            return verdict
        for j, (sent, after) in enumerate(zip(step["inputs"], got.get("inputs_after", []))):
            if hasattr(sent, "numpy") and not _same_bits(_np(after), sent.numpy()):
                delta = np.abs(_np(after).astype(np.float64) - sent.numpy().astype(np.float64))
                verdict.reason = (f"{label}: forward modified input {j} in place (max change "
                                  f"{float(np.nanmax(delta)) if delta.size else 0:.3g}); inputs "
                                  "must be left unchanged")
                return verdict
        if require_triton and int(got.get("launches", 0)) < 1:
            verdict.reason = (f"{label}: forward launched no Triton kernel on this call, though "
                              "an earlier call did (results replayed from a cache?)"
                              if launched_before else f"{label}: forward launched no Triton kernel")
            return verdict
        launched_before = launched_before or int(got.get("launches", 0)) > 0
        ops = set(got.get("aten_ops", []))
        banned = sorted(ops & forbidden_aten_ops)
        if banned:
            verdict.reason = (f"{label}: forward ran the reference op aten.{banned[0]} in "
                              "PyTorch; implement it in the kernel")
            return verdict
        if require_triton and ops - allowed_ops:
            extra = ", ".join(f"aten.{o}" for o in sorted(ops - allowed_ops))
            verdict.reason = (f"{label}: forward computes with PyTorch ops ({extra}) outside "
                              "Triton kernels; only allocation/view/copy ops are allowed there")
            return verdict
        arrays = [_np(o) for o in outputs]
        for k, (arr, w) in enumerate(zip(arrays, want)):
            failure, max_abs, max_rel = compare_values(arr, w.numpy(), atol, rtol)
            verdict.max_abs_err = max(verdict.max_abs_err, max_abs)
            verdict.max_rel_err = max(verdict.max_rel_err, max_rel)
            if failure:
                stale = (step["kind"] == "refill" and previous_outputs is not None
                         and _same_bits(arr, previous_outputs[k]))
                if stale:
                    verdict.reason = (f"{label}: after the input buffers were refilled in place "
                                      "with new values, forward returned the previous call's "
                                      "output (results cached by buffer address?)")
                else:
                    verdict.reason = f"{label}: wrong values: {failure}"
                return verdict
        if step["kind"] == "same" and previous_outputs is not None and deterministic:
            for k, arr in enumerate(arrays):
                if not _same_bits(arr, previous_outputs[k]):
                    diff = np.abs(arr.astype(np.float64) - previous_outputs[k].astype(np.float64))
                    idx = int(np.nanargmax(diff)) if diff.size else 0
                    verdict.reason = (f"{label}: nondeterministic: two calls on identical inputs "
                                      f"gave different outputs (max difference {float(diff.flat[idx]):.3g} "
                                      f"at {_where(arr, idx)}); results must be bitwise identical")
                    return verdict
        previous_outputs = arrays
        verdict.checked_calls += 1
        verdict.value_sets.add(int(step.get("set", n)))
    if len(results) < len(steps):
        verdict.reason = f"the harness returned {len(results)} of {len(steps)} step results"
    return verdict


def _describe_step(kind: str) -> str:
    return {"fresh": "new input buffers", "same": "same inputs again",
            "refill": "input buffers refilled in place with new values"}.get(kind, kind)
