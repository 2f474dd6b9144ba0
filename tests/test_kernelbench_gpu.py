"""GPU path of the kernelbench evaluator.

The speedup/quarantine policy runs on CPU with a fake timer; the timing runs themselves
(alternating sandbox processes, trusted per-call times, every timed call judged against
the reference's process) run on CPU too, through the Triton interpreter. With CUDA, a
real run of the initial program and of the gate/recorder/clock attack.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from support_kernelbench import CANDIDATES, KERNEL_PROBLEMS, context_for, evaluator_for

from evaluators.kernelbench.evaluator import interpreter_sandbox
from evaluators.kernelbench.gpu import net_ms, noise_pct, score_timings
from evaluators.kernelbench.timing import Measurement, measure
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationResult


def test_noise_is_the_interquartile_range_over_the_median() -> None:
    assert noise_pct([1.0, 1.0, 1.0, 1.0]) == 0.0
    # exclusive quartiles of 1..5 are 1.5 and 4.5; (4.5 - 1.5) / 3 = 100 %
    assert noise_pct([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(100.0)


def test_net_time_subtracts_the_calibrated_overhead_and_is_floored() -> None:
    assert net_ms([0.003] * 5, overhead_ms=1.0) == pytest.approx(2.0)
    # below the overhead: 2 % of the overhead, not zero or negative
    assert net_ms([0.0009] * 5, overhead_ms=1.0) == pytest.approx(0.02)


LABELS = ["small", "large"]


def found(candidate_ms: float, eager_ms: float, overhead_ms: float = 0.5,
          compile_ms: float | None = None, **errors: str) -> Measurement:
    """Trusted times in seconds: 100 calls of the given ms per program and shape."""
    def table(ms: float) -> dict[str, list[float]]:
        return {label: [ms / 1e3] * 100 for label in LABELS}

    times = {"candidate": table(candidate_ms), "reference": table(eager_ms),
             "calibration": table(overhead_ms),
             "compile": table(compile_ms) if compile_ms is not None else {}}
    return Measurement(times=times, **errors)


class FakeTimer:
    """Answers the policy's measurement requests in order and records them."""

    def __init__(self, first: Measurement, strict: Measurement | None = None) -> None:
        self.answers = {False: first, True: strict}
        self.asked: list[bool] = []

    def __call__(self, strict: bool) -> Measurement:
        self.asked.append(strict)
        answer = self.answers[strict]
        assert answer is not None, "strict re-measurement was not expected"
        return answer


CORRECT = EvaluationResult(valid=True, score=1.0, metrics={"max_abs_err": 1e-6},
                           artifacts={"correctness": "all passed"})


def score(timer: FakeTimer) -> EvaluationResult:
    return score_timings(LABELS, CORRECT, timer, 10.0)


def test_an_ordinary_speedup_is_net_of_the_overhead_and_scored_against_eager() -> None:
    timer = FakeTimer(found(candidate_ms=1.0, eager_ms=2.5, overhead_ms=0.5, compile_ms=1.5))
    result = score(timer)
    # net: candidate 0.5 ms, eager 2.0 ms, compile 1.0 ms
    assert result.valid and result.score == pytest.approx(4.0)
    assert result.metrics["speedup_vs_compile"] == pytest.approx(2.0)
    assert result.metrics["candidate_ms[large]"] == pytest.approx(0.5)
    assert result.metrics["candidate_call_ms[large]"] == pytest.approx(1.0)
    assert result.metrics["overhead_ms[small]"] == pytest.approx(0.5)
    assert result.metrics["quarantined"] == 0.0 and "speedup_unverified" not in result.metrics
    assert result.metrics["max_abs_err"] == 1e-6  # correctness metrics kept
    assert "shape large: candidate 0.5 ms, eager 2 ms (speedup 4x; per-call overhead 0.5 ms " \
           "subtracted), torch.compile 1 ms (2x)" in result.artifacts["timing"]
    assert timer.asked == [False]


def test_a_speedup_above_the_quarantine_limit_is_re_measured_strictly_and_the_strict_one_counts() -> None:
    timer = FakeTimer(found(candidate_ms=0.51, eager_ms=1.5),  # net 0.01 vs 1.0: 100x
                      strict=found(candidate_ms=1.0, eager_ms=1.5))  # net 0.5 vs 1.0
    result = score(timer)
    assert result.valid and result.metrics["quarantined"] == 1.0
    assert result.score == pytest.approx(2.0)
    assert result.metrics["speedup_unverified"] == pytest.approx(100.0)
    assert result.metrics["strict_speedup[small]"] == pytest.approx(2.0)
    assert "quarantine small: strict re-measurement speedup 2x (first measurement 100x)" \
        in result.artifacts["timing"]
    assert timer.asked == [False, True]


def test_a_candidate_faster_than_the_overhead_resolution_is_floored_and_quarantined() -> None:
    timer = FakeTimer(found(candidate_ms=0.4, eager_ms=1.5),  # below the 0.5 ms overhead
                      strict=found(candidate_ms=0.4, eager_ms=1.5))
    result = score(timer)
    assert result.metrics["candidate_ms[small]"] == pytest.approx(0.01)  # 2 % of 0.5 ms
    assert result.metrics["quarantined"] == 1.0
    assert result.score == pytest.approx(100.0)  # the most a 0.5 ms overhead can resolve


def test_a_failing_compile_baseline_is_noted_and_eager_still_scores() -> None:
    timer = FakeTimer(found(candidate_ms=1.0, eager_ms=1.5,
                            compile_error="inductor: no C++ compiler"))
    result = score(timer)
    assert result.valid and result.score == pytest.approx(2.0)
    assert "speedup_vs_compile" not in result.metrics
    assert "torch.compile baseline failed: inductor: no C++ compiler" in result.artifacts["timing"]


def test_a_candidate_failing_a_check_during_timing_is_invalid() -> None:
    timer = FakeTimer(found(1.0, 1.5, candidate_error="timing run: large: timed call 7: "
                                                      "wrong values: ..."))
    result = score(timer)
    assert not result.valid and result.reason.startswith("timing run: large: timed call 7")


def test_a_failing_strict_re_measurement_makes_the_candidate_invalid() -> None:
    timer = FakeTimer(found(candidate_ms=0.51, eager_ms=1.5),
                      strict=found(1.0, 1.5, candidate_error="timing run: sandbox: timeout"))
    result = score(timer)
    assert not result.valid
    assert result.reason == "quarantine re-measurement failed: timing run: sandbox: timeout"


def test_a_failing_reference_timing_makes_the_result_invalid_not_a_crash() -> None:
    result = score(FakeTimer(found(1.0, 1.5, reference_error="reference: CUDA out of memory")))
    assert not result.valid
    assert result.reason == "timing the reference failed: reference: CUDA out of memory"


# ------------------------------------------------------------------ real timing runs (CPU)

@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    yield interpreter_sandbox()


def _measure(candidate: Path, sandbox: Sandbox, rounds: int = 2, repeat: int = 6) -> Measurement:
    evaluator = evaluator_for("softmax", timing_rounds=rounds)
    evaluator.settings.gpu_repeat, evaluator.settings.gpu_warmup = repeat, 1
    shapes = evaluator.settings.cpu_shapes
    specs = {"rows=4,cols=64": [[[4, 64], "torch.float32"]],
             "rows=3,cols=100": [[[3, 100], "torch.float32"]]}
    return measure(evaluator, context_for("softmax", sandbox), sandbox, shapes, "cpu",
                   12345, candidate.read_text(), specs, strict=False, with_compile=False)


def test_timing_runs_alternate_programs_and_keep_every_timed_call(sandbox: Sandbox) -> None:
    result = _measure(KERNEL_PROBLEMS / "softmax" / "initial_program.py", sandbox)
    assert not (result.candidate_error or result.reference_error), result
    for program in ("candidate", "reference", "calibration"):
        for label in ("rows=4,cols=64", "rows=3,cols=100"):
            times = result.times[program][label]
            assert len(times) == 2 * 6 and all(t > 0 for t in times)


def test_a_candidate_that_changes_once_timing_starts_fails_the_timing_run(
        sandbox: Sandbox) -> None:
    """Correct for five calls, then off: every timed call of a timing process is judged
    against the reference's process of the same round."""
    result = _measure(CANDIDATES / "softmax_timing_switch.py", sandbox, rounds=1)
    assert result.candidate_error.startswith("timing run: rows=4,cols=64: timed call 6: "
                                             "wrong values"), result.candidate_error


def test_the_clock_attack_gets_trusted_times_in_timing_runs(sandbox: Sandbox) -> None:
    """The attack replaces in-process clocks and the harness's timing function; the
    times come from the sandbox zygote around each call, so they are real."""
    result = _measure(CANDIDATES / "softmax_gate_recorder_clock.py", sandbox, rounds=1)
    assert not result.candidate_error, result.candidate_error
    overhead = min(min(t) for t in result.times["calibration"].values())
    for times in result.times["candidate"].values():
        assert min(times) > 1e-9 and min(times) > overhead / 100


# ------------------------------------------------------------------ CUDA

def _gpu_evaluate(candidate: Path) -> EvaluationResult:
    with Sandbox(preload=("numpy", "torch", "triton")) as box:
        evaluator = evaluator_for("softmax", device="cuda")
        return evaluator.evaluate(candidate, context_for("softmax", box))


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_softmax_initial_program_on_gpu() -> None:
    result = _gpu_evaluate(KERNEL_PROBLEMS / "softmax" / "initial_program.py")
    assert result.valid, result.reason
    assert result.metrics["on_gpu"] == 1.0 and result.metrics["timing_meaningful"] == 1.0
    assert result.score == result.metrics["speedup_vs_eager"] > 0
    assert any(key.startswith("overhead_ms[") for key in result.metrics)
    assert any(key.startswith("timing_noise_pct[") for key in result.metrics)


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gate_recorder_clock_attack_on_gpu_reports_no_absurd_speedup() -> None:
    """docs/problems/kernelbench.md: the forged clock is not read, and the reference op
    costs the reference's own time, so the attack is not quarantined."""
    result = _gpu_evaluate(CANDIDATES / "softmax_gate_recorder_clock.py")
    assert result.valid, result.reason
    assert result.metrics["quarantined"] == 0.0
    assert result.score < 10.0
