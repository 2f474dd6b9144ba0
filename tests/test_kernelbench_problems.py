"""Every shipped kernel problem on the CPU path: the initial Triton program is accepted and
zeros, a constant and the identity are rejected by the trusted-side value checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

from support_kernelbench import (
    KERNEL_PROBLEMS,
    PROBLEM_NAMES,
    degenerate_candidate,
    evaluate,
)

from evolve.evaluation.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # Only used on CUDA; CPU runs go through the evaluator's interpreter sandbox.
    box = Sandbox(preload=("numpy",))
    yield box
    box.close()


@pytest.mark.parametrize("problem", PROBLEM_NAMES)
def test_initial_program_is_correct(problem: str, sandbox: Sandbox) -> None:
    result = evaluate(problem, KERNEL_PROBLEMS / problem / "initial_program.py", sandbox)
    assert result.valid, result.reason
    assert result.score == 1.0
    assert result.metrics["on_gpu"] == 0.0 and result.metrics["timing_meaningful"] == 0.0
    assert result.metrics["checked_calls"] >= 8  # 2 shapes x (fresh, same, 2 refills, fresh)
    assert result.metrics["trials"] >= 8
    assert any(key.startswith("candidate_ms[") for key in result.metrics)
    assert "not meaningful" in result.artifacts["timing"]
    assert "calls correct" in result.artifacts["correctness"]


@pytest.mark.parametrize("mode", ["zeros", "constant", "identity"])
@pytest.mark.parametrize("problem", PROBLEM_NAMES)
def test_degenerate_outputs_fail(problem: str, mode: str, sandbox: Sandbox, tmp_path: Path) -> None:
    result = evaluate(problem, degenerate_candidate(tmp_path, problem, mode), sandbox)
    assert not result.valid
    # Zeros and constants are named as such whatever the tolerance; the identity has the
    # input's shape, which differs from the output's for two problems, and is otherwise
    # uncorrelated with the reference (or, for gelu, wrong beyond the tolerance).
    expected = {"zeros": "wrong values: output is all zeros",
                "constant": "wrong values: output is the constant 0.5 everywhere",
                "identity": "wrong values"}[mode]
    if mode == "identity" and problem in ("matmul_bias_gelu", "cross_entropy"):
        expected = "wrong shape"
    if mode == "constant" and problem == "cross_entropy":  # one number: a constant is fine
        expected = "wrong values: max abs error"
    assert expected in result.reason, result.reason
    assert result.score == 0.0
