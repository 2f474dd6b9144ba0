"""GPU path of the kernelbench evaluator: timing cross-checks (pure) and, with CUDA, a real run."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from evaluators.kernelbench.gpu import cross_check, noise_pct


def timing(events: list[float], walls: list[float], call_s: float) -> dict:
    return {"value": {"event_ms": events, "wall_ms": walls}, "call_s": call_s}


def test_cross_check_accepts_consistent_clocks() -> None:
    assert cross_check(timing([1.0] * 100, [1.05] * 100, 0.2)) == ""


def test_cross_check_flags_events_longer_than_the_untampered_clock() -> None:
    assert "more than the call took" in cross_check(timing([1.0] * 100, [1.0] * 100, 0.05))


def test_cross_check_flags_work_escaping_the_event_window() -> None:
    assert "far above the CUDA event time" in cross_check(timing([0.01] * 100, [2.0] * 100, 1.0))


def test_noise_is_the_interquartile_range_over_the_median() -> None:
    assert noise_pct([1.0, 1.0, 1.0, 1.0]) == 0.0
    # exclusive quartiles of 1..5 are 1.5 and 4.5; (4.5 - 1.5) / 3 = 100 %
    assert noise_pct([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(100.0)


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_softmax_initial_program_on_gpu() -> None:
    from support_kernelbench import KERNEL_PROBLEMS, context_for, evaluator_for

    from evolve.evaluation.sandbox import Sandbox

    with Sandbox(preload=("numpy", "torch", "triton")) as sandbox:
        evaluator = evaluator_for("softmax", device="cuda")
        result = evaluator.evaluate(KERNEL_PROBLEMS / "softmax" / "initial_program.py",
                                    context_for("softmax", sandbox))
    assert result.valid, result.reason
    assert result.metrics["on_gpu"] == 1.0 and result.metrics["timing_meaningful"] == 1.0
    assert result.score == result.metrics["speedup_vs_eager"] > 0
    assert any(key.startswith("timing_noise_pct[") for key in result.metrics)
