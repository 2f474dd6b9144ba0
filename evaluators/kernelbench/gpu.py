"""GPU scoring: speedup over eager PyTorch from trusted times, with quarantine.

Runs after the candidate passed every correctness check. ``timing.measure`` returns
per-call times taken by the sandbox zygote for the calibration model, the reference
(eager and ``torch.compile``) and the candidate. A timed call's window holds input
generation from the call's key, forward, the device sync, the outputs' keyed sums and
the sandbox round trip; the calibration model's median window (all of that with no
forward work) is subtracted from each program's median:

    net = max(median - overhead, 2 % of overhead)

so speedups compare forward work, and differences below 2 % of the overhead are not
resolved. The score is the geometric mean over GPU shapes of net eager / net
candidate. A speedup above ``quarantine_speedup`` sends both sides to a strict
re-measurement (fresh processes and keys, three times the calls, a quarter of them
checked element by element), whose speedup is the one scored.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

from evaluators.kernelbench.script import shape_label
from evaluators.kernelbench.timing import Measurement, Runs, measure
from evaluators.kernelbench.verdict import Verdict
from evolve.evaluation.sandbox import Sandbox
from evolve.evaluation.types import EvaluationContext, EvaluationResult

NET_FLOOR_SHARE = 0.02

# strict -> trusted times of every program
Timer = Callable[[bool], Measurement]


def median_ms(values: list[float]) -> float:
    return float(statistics.median(values)) * 1e3 if values else float("nan")


def noise_pct(values: list[float]) -> float:
    """Interquartile range as a percentage of the median."""
    if len(values) < 4:
        return float("nan")
    q = statistics.quantiles(values, n=4)
    return 100.0 * (q[2] - q[0]) / max(statistics.median(values), 1e-12)


def net_ms(times_s: list[float], overhead_ms: float) -> float:
    """Median ms per call less the calibration overhead, floored (module docstring)."""
    return max(median_ms(times_s) - overhead_ms, NET_FLOOR_SHARE * overhead_ms, 1e-6)


def _geomean(values: list[float]) -> float:
    good = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in good) / len(good)) if good else float("nan")


def score_on_gpu(evaluator: Runs, context: EvaluationContext, sandbox: Sandbox,
                 outcome: EvaluationResult, verdict: Verdict, init_seed: int,
                 source: str) -> EvaluationResult:
    """Add speedups to a correct candidate's result and score it by the eager speedup."""
    s = evaluator.settings
    device = evaluator.device()

    def timer(strict: bool) -> Measurement:
        return measure(evaluator, context, sandbox, s.gpu_shapes, device, init_seed, source,
                       verdict.output_specs, strict)

    return score_timings([shape_label(sh) for sh in s.gpu_shapes], outcome, timer,
                         s.quarantine_speedup)


def _failure(found: Measurement, stage: str) -> EvaluationResult | None:
    if found.reference_error:
        return EvaluationResult.invalid(f"timing the reference failed: {found.reference_error}")
    if found.candidate_error:
        prefix = "quarantine re-measurement failed: " if stage == "strict" else ""
        return EvaluationResult.invalid(prefix + found.candidate_error)
    return None


def _speedups(found: Measurement, labels: list[str]) -> dict[str, float]:
    out = {}
    for label in labels:
        overhead = median_ms(found.times["calibration"][label])
        out[label] = (net_ms(found.times["reference"][label], overhead)
                      / net_ms(found.times["candidate"][label], overhead))
    return out


def score_timings(labels: list[str], outcome: EvaluationResult, timer: Timer,
                  quarantine_speedup: float) -> EvaluationResult:
    """The scoring policy, given a way to measure (``timer(strict)``)."""
    first = timer(False)
    failed = _failure(first, "first")
    if failed is not None:
        return failed
    metrics = dict(outcome.metrics)
    lines: list[str] = []
    speedups = _speedups(first, labels)
    for label in labels:
        times = first.times
        overhead = median_ms(times["calibration"][label])
        cand = net_ms(times["candidate"][label], overhead)
        eager = net_ms(times["reference"][label], overhead)
        metrics.update({f"candidate_ms[{label}]": cand, f"eager_ms[{label}]": eager,
                        f"overhead_ms[{label}]": overhead,
                        f"candidate_call_ms[{label}]": median_ms(times["candidate"][label]),
                        f"timing_noise_pct[{label}]": noise_pct(times["candidate"][label])})
        line = (f"shape {label}: candidate {cand:.4g} ms, eager {eager:.4g} ms (speedup "
                f"{speedups[label]:.3g}x; per-call overhead {overhead:.4g} ms subtracted)")
        if label in times["compile"]:
            compiled = net_ms(times["compile"][label], overhead)
            metrics[f"compile_ms[{label}]"] = compiled
            metrics[f"speedup_vs_compile[{label}]"] = compiled / cand
            line += f", torch.compile {compiled:.4g} ms ({compiled / cand:.3g}x)"
        lines.append(line)
    quarantined = any(v > quarantine_speedup for v in speedups.values())
    if quarantined:
        strict = timer(True)
        failed = _failure(strict, "strict")
        if failed is not None:
            failed.artifacts["timing"] = "\n".join(lines)
            return failed
        metrics["speedup_unverified"] = _geomean(list(speedups.values()))
        for label, value in _speedups(strict, labels).items():
            metrics[f"strict_speedup[{label}]"] = value
            lines.append(f"quarantine {label}: strict re-measurement speedup {value:.3g}x "
                         f"(first measurement {speedups[label]:.3g}x)")
            speedups[label] = value
    for label, value in speedups.items():
        metrics[f"speedup_vs_eager[{label}]"] = value
    metrics["speedup_vs_eager"] = _geomean(list(speedups.values()))
    compile_values = [metrics[k] for k in metrics if k.startswith("speedup_vs_compile[")]
    if compile_values:
        metrics["speedup_vs_compile"] = _geomean(compile_values)
    metrics["quarantined"] = float(quarantined)
    artifacts = dict(outcome.artifacts)
    notes = [f"torch.compile baseline failed: {first.compile_error}"] if first.compile_error else []
    artifacts["timing"] = "\n".join(lines + notes)
    return EvaluationResult(valid=True, score=metrics["speedup_vs_eager"], metrics=metrics,
                            artifacts=artifacts)
