"""GPU path of the kernelbench evaluator: timing cross-checks and the speedup/quarantine
policy (with a recording fake timer, so they run on CPU too) and, with CUDA, a real run."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from evaluators.kernelbench.evaluator import CANDIDATE_FILE, REFERENCE_FILE
from evaluators.kernelbench.gpu import cross_check, noise_pct, score_timings
from evolve.evaluation.types import EvaluationResult


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


LABELS = ["small", "large"]


def timings(ms: float, wall_ms: float | None = None) -> dict:
    """One consistent timing per shape: 100 calls of ``ms`` each."""
    wall = ms * 1.05 if wall_ms is None else wall_ms
    return {label: timing([ms] * 100, [wall] * 100, ms * 100 / 1e3 * 1.5) for label in LABELS}


class FakeTimer:
    """Answers the policy's timing requests from a table and records them."""

    def __init__(self, table: dict[tuple[str, bool, bool], tuple[dict, str]]) -> None:
        self.table = table
        self.asked: list[tuple[str, bool, bool]] = []

    def __call__(self, filename: str, class_name: str, strict: bool, compile_model: bool):
        key = (filename, strict, compile_model)
        self.asked.append(key)
        assert class_name == ("ModelNew" if filename == CANDIDATE_FILE else "Model")
        return self.table[key]


CORRECT = EvaluationResult(valid=True, score=1.0, metrics={"max_abs_err": 1e-6},
                           artifacts={"checks": "all passed"})


def score(candidate: dict, timer: FakeTimer) -> EvaluationResult:
    return score_timings(LABELS, CORRECT, candidate, timer, "ModelNew", 10.0)


def test_an_ordinary_speedup_is_scored_against_eager_and_reported_against_compile() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): (timings(2.0), ""),
                       (REFERENCE_FILE, False, True): (timings(1.0), "")})
    result = score(timings(0.5), timer)
    assert result.valid and result.score == pytest.approx(4.0)
    assert result.metrics["speedup_vs_eager"] == pytest.approx(4.0)
    assert result.metrics["speedup_vs_compile"] == pytest.approx(2.0)
    assert result.metrics["quarantined"] == 0.0 and "speedup_unverified" not in result.metrics
    assert result.metrics["max_abs_err"] == 1e-6  # correctness metrics kept
    assert "shape large: candidate 0.5 ms, eager 2 ms (speedup 4x)" in result.artifacts["timing"]
    assert timer.asked == [(REFERENCE_FILE, False, False), (REFERENCE_FILE, False, True)]


def test_a_speedup_above_the_quarantine_limit_is_re_measured_strictly_and_the_strict_one_counts() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): (timings(5.0), ""),
                       (REFERENCE_FILE, False, True): (timings(4.0), ""),
                       (CANDIDATE_FILE, True, False): (timings(3.0, wall_ms=3.0), ""),
                       (REFERENCE_FILE, True, False): (timings(6.0, wall_ms=6.0), "")})
    result = score(timings(0.1), timer)  # claims 50x
    assert result.valid and result.metrics["quarantined"] == 1.0
    assert result.score == pytest.approx(2.0)  # strict wall clock: 6 ms / 3 ms
    assert result.metrics["speedup_unverified"] == pytest.approx(50.0)
    assert result.metrics["strict_speedup[small]"] == pytest.approx(2.0)
    assert "quarantine small: strict wall-clock speedup 2x (first measurement 50x)" in result.artifacts["timing"]
    assert timer.asked[2:] == [(CANDIDATE_FILE, True, False), (REFERENCE_FILE, True, False)]


def test_work_escaping_the_event_window_is_quarantined_even_at_a_modest_speedup() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): (timings(2.0), ""),
                       (REFERENCE_FILE, False, True): (timings(2.0), ""),
                       (CANDIDATE_FILE, True, False): (timings(4.0, wall_ms=4.0), ""),
                       (REFERENCE_FILE, True, False): (timings(2.0, wall_ms=2.0), "")})
    result = score(timings(1.0, wall_ms=4.0), timer)  # events say 2x, the host clock disagrees
    assert result.metrics["quarantined"] == 1.0
    assert result.score == pytest.approx(0.5)
    assert "far above the CUDA event time" in result.artifacts["timing"]


def test_a_failing_compile_baseline_is_noted_and_eager_still_scores() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): (timings(2.0), ""),
                       (REFERENCE_FILE, False, True): ({}, "inductor: no C++ compiler")})
    result = score(timings(1.0), timer)
    assert result.valid and result.score == pytest.approx(2.0)
    assert "speedup_vs_compile" not in result.metrics
    assert "torch.compile baseline failed: inductor: no C++ compiler" in result.artifacts["timing"]


def test_a_failing_strict_re_measurement_makes_the_candidate_invalid() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): (timings(5.0), ""),
                       (REFERENCE_FILE, False, True): (timings(5.0), ""),
                       (CANDIDATE_FILE, True, False): ({}, "output changed on fresh buffers")})
    result = score(timings(0.01), timer)
    assert not result.valid
    assert result.reason == "quarantine re-measurement failed: output changed on fresh buffers"


def test_a_failing_reference_timing_makes_the_result_invalid_not_a_crash() -> None:
    timer = FakeTimer({(REFERENCE_FILE, False, False): ({}, "CUDA out of memory")})
    result = score(timings(1.0), timer)
    assert not result.valid and result.reason == "timing the reference failed: CUDA out of memory"


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
