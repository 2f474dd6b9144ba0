"""GPU scoring: speedups over eager PyTorch and torch.compile, with cross-checks.

Runs only when CUDA is present, after the candidate passed every correctness check.
The candidate's CUDA-event medians come from the main sandbox run; the reference is
timed in a separate sandbox run (the candidate never shares a process with it) with the
same harness, inputs, L2 flush and trial count. Checks before a speedup is believed:

* the sum of the candidate's event times must fit inside the sandbox's own clock for
  that call (that clock is bound before candidate code is imported);
* the median host wall time (call + full device sync) must not exceed twice the median
  event time plus 0.1 ms, or work may be escaping the event window (another stream);
* a speedup above ``quarantine_speedup`` or a failed cross-check sends the candidate
  to quarantine: both sides are re-timed in strict mode (fresh buffers every call,
  3x the trials, host wall clock with full device sync) and the strict speedup is the
  one scored.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from evaluators.kernelbench.evaluator import (
    CANDIDATE_FILE,
    HARNESS,
    REFERENCE_FILE,
    KernelBenchEvaluator,
    ShapePlan,
)
from evolve.evaluation.sandbox import CandidateCall, Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult

CROSS_CHECK_FACTOR = 2.0
CROSS_CHECK_SLACK_MS = 0.1


def _median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def noise_pct(values: list[float]) -> float:
    """Interquartile range as a percentage of the median."""
    if len(values) < 4:
        return float("nan")
    q = statistics.quantiles(values, n=4)
    return 100.0 * (q[2] - q[0]) / max(statistics.median(values), 1e-12)


def _geomean(values: list[float]) -> float:
    good = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in good) / len(good)) if good else float("nan")


def cross_check(timing: dict[str, Any]) -> str:
    """"" when the event timings are consistent with the independent clocks."""
    value = timing["value"]
    events, walls = value["event_ms"], value["wall_ms"]
    if sum(events) / 1e3 > timing["call_s"] * 1.01:
        return "CUDA event times add up to more than the call took on an untampered clock"
    if _median(walls) > CROSS_CHECK_FACTOR * _median(events) + CROSS_CHECK_SLACK_MS:
        return (f"host wall time with full device sync (median {_median(walls):.4g} ms) is far "
                f"above the CUDA event time (median {_median(events):.4g} ms)")
    return ""


def _time_model(evaluator: KernelBenchEvaluator, sandbox: Sandbox, context: EvaluationContext,
                plans: list[ShapePlan], filename: str, class_name: str, init_seed: int,
                strict: bool, compile_model: bool, files: dict[str, bytes]
                ) -> tuple[dict[str, dict[str, Any]], str]:
    """Time ``class_name`` from ``filename`` on every plan; ({label: timing}, error)."""
    calls: list[CandidateCall] = []
    for plan in plans:
        calls.append(CandidateCall("load", (filename, class_name, plan.init_inputs, init_seed,
                                            "cuda", compile_model)))
        calls.append(evaluator.timing_call(plan, "cuda", strict))
    result = sandbox.run(HARNESS, calls, evaluator.limits(context, "cuda"), files=files)
    if not result.ok:
        return {}, result.reason
    out: dict[str, dict[str, Any]] = {}
    for i, plan in enumerate(plans):
        load, timing = result.calls[2 * i], result.calls[2 * i + 1]
        if not load.ok or not timing.ok:
            return {}, (load.error or timing.error).splitlines()[0]
        if filename == CANDIDATE_FILE:
            failure, _ = evaluator.timing_outcome(plan, timing)
            if failure:
                return {}, failure
        out[plan.label] = {"value": timing.value, "call_s": sum(timing.times_s)}
    return out, ""


# (filename, class name, strict, torch.compile) -> ({shape label: timing}, error)
Timer = Callable[[str, str, bool, bool], tuple[dict[str, dict[str, Any]], str]]


def score_on_gpu(evaluator: KernelBenchEvaluator, plans: list[ShapePlan],
                 context: EvaluationContext, outcome: EvaluationResult,
                 candidate: dict[str, dict[str, Any]], init_seed: int, sandbox: Sandbox,
                 source: str) -> EvaluationResult:
    """Add speedups to a correct candidate's result and score it by the eager speedup."""
    files = {CANDIDATE_FILE: source.encode(), REFERENCE_FILE: evaluator.reference.source.encode()}

    def timer(filename: str, class_name: str, strict: bool, compile_model: bool
              ) -> tuple[dict[str, dict[str, Any]], str]:
        return _time_model(evaluator, sandbox, context, plans, filename, class_name, init_seed,
                           strict, compile_model, {filename: files[filename]})

    return score_timings([p.label for p in plans], outcome, candidate, timer,
                         evaluator.settings.class_name, evaluator.settings.quarantine_speedup)


def score_timings(labels: list[str], outcome: EvaluationResult,
                  candidate: dict[str, dict[str, Any]], timer: Timer, class_name: str,
                  quarantine_speedup: float) -> EvaluationResult:
    """The scoring policy, given the candidate's timings and a way to time more.

    Times the reference eager and under torch.compile, cross-checks the candidate's
    clocks, and re-times both sides strictly when a speedup is above
    ``quarantine_speedup`` or a cross-check fails (the strict speedup is then scored).
    """
    eager, error = timer(REFERENCE_FILE, "Model", False, False)
    if error:
        return EvaluationResult.invalid(f"timing the reference failed: {error}")
    compiled, compile_error = timer(REFERENCE_FILE, "Model", False, True)
    metrics = dict(outcome.metrics)
    lines: list[str] = []
    speedups: dict[str, float] = {}
    suspicious: list[str] = []
    for label in labels:
        cand = candidate[label]["value"]
        cand_ms, eager_ms = _median(cand["event_ms"]), _median(eager[label]["value"]["event_ms"])
        speedups[label] = eager_ms / cand_ms
        metrics[f"eager_ms[{label}]"] = eager_ms
        metrics[f"timing_noise_pct[{label}]"] = noise_pct(cand["event_ms"])
        metrics[f"wall_ms[{label}]"] = _median(cand["wall_ms"])
        line = (f"shape {label}: candidate {cand_ms:.4g} ms, eager {eager_ms:.4g} ms "
                f"(speedup {speedups[label]:.3g}x)")
        if label in compiled:
            compile_ms = _median(compiled[label]["value"]["event_ms"])
            metrics[f"compile_ms[{label}]"] = compile_ms
            metrics[f"speedup_vs_compile[{label}]"] = compile_ms / cand_ms
            line += f", torch.compile {compile_ms:.4g} ms ({compile_ms / cand_ms:.3g}x)"
        problem = cross_check(candidate[label])
        if problem:
            suspicious.append(f"{label}: {problem}")
        lines.append(line)
    quarantined = bool(suspicious) or any(v > quarantine_speedup for v in speedups.values())
    if quarantined:
        strict_cand, error = timer(CANDIDATE_FILE, class_name, True, False)
        if error:
            return EvaluationResult.invalid(f"quarantine re-measurement failed: {error}",
                                            timing="\n".join(lines + suspicious))
        strict_eager, error = timer(REFERENCE_FILE, "Model", True, False)
        if error:
            return EvaluationResult.invalid(f"timing the reference failed: {error}")
        metrics["speedup_unverified"] = _geomean(list(speedups.values()))
        for label in labels:
            strict = _median(strict_eager[label]["value"]["wall_ms"]) / _median(
                strict_cand[label]["value"]["wall_ms"])
            metrics[f"strict_speedup[{label}]"] = strict
            lines.append(f"quarantine {label}: strict wall-clock speedup {strict:.3g}x "
                         f"(first measurement {speedups[label]:.3g}x)")
            speedups[label] = strict
    for label, value in speedups.items():
        metrics[f"speedup_vs_eager[{label}]"] = value
    metrics["speedup_vs_eager"] = _geomean(list(speedups.values()))
    compile_values = [metrics[k] for k in metrics if k.startswith("speedup_vs_compile[")]
    if compile_values:
        metrics["speedup_vs_compile"] = _geomean(compile_values)
    metrics["quarantined"] = float(quarantined)
    artifacts = dict(outcome.artifacts)
    notes = suspicious + ([f"torch.compile baseline failed: {compile_error}"] if compile_error else [])
    artifacts["timing"] = "\n".join(lines + notes)
    return EvaluationResult(valid=True, score=metrics["speedup_vs_eager"], metrics=metrics,
                            artifacts=artifacts)
