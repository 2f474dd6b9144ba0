"""Element-wise comparison (evaluators/kernelbench/checks.py): a tolerance that scale
cannot game, and degenerate outputs rejected whatever the tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluators.kernelbench.checks import compare_values

RNG = np.random.default_rng(0)
# A wide softmax row: every output is around 1/16384, far below an absolute atol of 1e-5.
LOGITS = RNG.random((4, 16384))
SOFTMAX = np.exp(LOGITS) / np.exp(LOGITS).sum(axis=1, keepdims=True)


def test_zeros_fail_even_where_every_output_is_below_atol() -> None:
    failure, _, _ = compare_values(np.zeros_like(SOFTMAX), SOFTMAX, atol=1e-5, rtol=1e-5)
    assert failure == "output is all zeros (the reference is not)"


def test_an_off_by_one_denominator_fails_on_small_outputs() -> None:
    e = np.exp(LOGITS)
    off = e / (e.sum(axis=1, keepdims=True) + 1)  # 4e-5 relative: 4x rtol
    failure, _, _ = compare_values(off.astype(np.float32), SOFTMAX, atol=1e-5, rtol=1e-5)
    assert failure.startswith("max abs error"), failure


@pytest.mark.parametrize("scale", [1e-9, 1.0, 1e9])
def test_the_verdict_does_not_depend_on_the_output_scale(scale: float) -> None:
    ref = RNG.standard_normal(1000)
    noise = RNG.standard_normal(1000)
    close = ref + 1e-6 * np.abs(ref) * np.sign(noise)
    far = ref + 1e-3 * np.abs(ref) * np.sign(noise)
    assert compare_values(close * scale, ref * scale, 1e-5, 1e-5)[0] == ""
    assert compare_values(far * scale, ref * scale, 1e-5, 1e-5)[0].startswith("max abs error")


def test_atol_is_relative_to_the_reference_rms_for_values_near_zero() -> None:
    ref = np.array([1.0, -1.0, 1e-12, 2.0])
    got = ref + np.array([0.0, 0.0, 5e-6, 0.0])  # near zero: only the scaled atol applies
    assert compare_values(got, ref, atol=1e-5, rtol=1e-5)[0] == ""
    assert compare_values(got, ref, atol=1e-6, rtol=1e-5)[0] != ""


def test_a_constant_fails_whatever_the_tolerance() -> None:
    got = np.full_like(SOFTMAX, SOFTMAX.mean())
    failure, _, _ = compare_values(got, SOFTMAX, atol=1e3, rtol=1e3)
    assert failure.startswith("output is the constant")


def test_an_uncorrelated_output_fails_whatever_the_tolerance() -> None:
    got = RNG.permutation(SOFTMAX.ravel()).reshape(SOFTMAX.shape)  # right values, wrong places
    failure, _, _ = compare_values(got, SOFTMAX, atol=1e3, rtol=1e3)
    assert failure.startswith("output is uncorrelated with the reference (correlation")
    assert compare_values(SOFTMAX * 1.01, SOFTMAX, atol=1e3, rtol=1e3)[0] == ""


def test_exact_references_need_exact_answers() -> None:
    ref = np.arange(10, dtype=np.int64)
    assert compare_values(ref.copy(), ref, 0.0, 0.0)[0] == ""
    assert compare_values(ref + (ref == 3), ref, 0.0, 0.0)[0] != ""
    zeros = np.zeros(8)  # a reference that is all zeros accepts zeros
    assert compare_values(zeros.copy(), zeros, 1e-5, 1e-5)[0] == ""


def test_a_shipped_problem_rejects_an_uncorrelated_output_at_a_loose_tolerance(
        tmp_path: Path) -> None:
    pytest.importorskip("triton")
    from support_kernelbench import degenerate_candidate, evaluate

    from evaluators.kernelbench.evaluator import interpreter_sandbox

    result = evaluate("softmax", degenerate_candidate(tmp_path, "softmax", "identity"),
                      interpreter_sandbox(), atol=1e3, rtol=1e3)
    assert "wrong values: output is uncorrelated with the reference" in result.reason, \
        result.reason
