"""Known kernel-benchmark reward hacks, each rejected with a specific reason (CPU path)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

from support_kernelbench import CANDIDATES, evaluate

from evolve.evaluation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(preload=("numpy",))
    yield box
    box.close()


def test_correct_alternative_kernel_is_accepted(sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / "softmax_correct_chunked.py", sandbox)
    assert result.valid, result.reason
    assert result.metrics["max_abs_err"] < 1e-6


# (candidate file, words the rejection reason must contain)
HACKS = [
    ("softmax_cache_by_address.py", "results replayed from a cache"),
    ("softmax_return_input.py", "shares memory with input 0"),
    ("softmax_mutate_input.py", "modified input 0 in place"),
    ("softmax_calls_torch_softmax.py", "static gate: line 29: uses torch.softmax"),
    ("softmax_getattr_softmax.py", "static gate"),
    ("softmax_torch_math.py", "aten.exp"),
    ("softmax_dead_kernel.py", "launched no Triton kernel"),
    ("softmax_stream.py", "static gate"),
    ("softmax_monkeypatch.py", "monkeypatching"),
    ("softmax_nondeterministic.py", "nondeterministic"),
    ("softmax_wrong_dtype.py", "wrong dtype: output is torch.float64, expected torch.float32"),
    ("softmax_wrong_shape.py", "wrong shape: output is [256], expected [4, 64]"),
    # Unwritten memory holds NaN (the harness poisons the allocator) or stale garbage.
    ("softmax_uninitialized.py", "call 1 (new input buffers): wrong values"),
    ("softmax_raises.py", "ValueError: kernel not finished"),
    # Timed calls are verified too: by keyed sums of every output, and element by element
    # on a secret share of them (decided after the call has answered).
    ("softmax_timing_switch.py", "timed call 1: wrong values"),
    ("softmax_timing_sloppy.py", "timed call"),
    ("softmax_skips_timed_work.py", "timed call 1: "),
    # Forged answers of odd types and shapes: the trusted side reports them, never crashes.
    ("softmax_forged_answers.py", "call 1 (new input buffers): the harness returned a "
                                  "malformed inspection"),
]


@pytest.mark.parametrize("filename,reason", HACKS, ids=[h[0].removesuffix(".py") for h in HACKS])
def test_hack_is_rejected_with_specific_reason(filename: str, reason: str, sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / filename, sandbox)
    assert not result.valid
    assert reason in result.reason, result.reason
    assert result.score == 0.0


def test_a_small_error_only_on_timed_calls_is_caught(sandbox: Sandbox) -> None:
    """1 % off per element once timing starts: far outside the tolerance, and caught by
    the keyed sums (or an element-by-element check) of the timed calls."""
    result = evaluate("softmax", CANDIDATES / "softmax_timing_sloppy.py", sandbox)
    assert re.search(r"timed call \d+: wrong values", result.reason), result.reason


def test_skipping_the_work_of_timed_calls_is_caught(sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / "softmax_skips_timed_work.py", sandbox)
    assert re.search(r"timed call 1: (wrong values|forward launched no Triton kernel on this "
                     r"call, though an earlier call did)", result.reason), result.reason


def test_getattr_reason_names_the_escape(sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / "softmax_getattr_softmax.py", sandbox)
    assert "getattr with a computed attribute name" in result.artifacts["static_gate"]


def test_stream_reason_names_streams(sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / "softmax_stream.py", sandbox)
    assert "torch.cuda.Stream" in result.artifacts["static_gate"]


def test_refill_catches_caching_by_values_alone(sandbox: Sandbox) -> None:
    # As a torch-backend problem there is no launch count: the in-place refill with new
    # values is what exposes the replayed output.
    result = evaluate("softmax", CANDIDATES / "softmax_cache_by_address.py", sandbox,
                      backend="torch")
    assert "input buffers were refilled in place" in result.reason, result.reason
    assert "previous call's output" in result.reason


def test_failure_artifact_explains_where(sandbox: Sandbox) -> None:
    result = evaluate("softmax", CANDIDATES / "softmax_nondeterministic.py", sandbox)
    text = result.artifacts["correctness"]
    assert "max difference" in text and "rows=4,cols=64" in text
