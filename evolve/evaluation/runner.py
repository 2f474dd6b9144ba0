"""Run one evaluator on one candidate: the optional cascade, then ``evaluate``."""

from __future__ import annotations

import os
import resource
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evolve.evaluation.types import EvaluationContext, EvaluationResult, Evaluator, cascade_of


def _evaluator_error(exc: BaseException) -> EvaluationResult:
    # A trusted evaluator raising is an evaluator bug, not the candidate's fault.
    result = EvaluationResult.invalid(f"evaluator error: {type(exc).__name__}: {exc}")
    result.artifacts["evaluator_traceback"] = "".join(traceback.format_exception(exc))[-8000:]
    return result


@contextmanager
def trusted_memory_limit(budget_mb: int) -> Iterator[None]:
    """Cap this process's address space at its current size plus ``budget_mb`` while an
    evaluator runs, so decoding or scoring a hostile candidate's output fails with
    MemoryError here instead of exhausting the machine. ``budget_mb <= 0``: no cap (CUDA
    reserves address space far beyond what it uses)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if budget_mb <= 0 or not os.path.exists("/proc/self/statm"):
        yield
        return
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[0]) * resource.getpagesize()
    cap = current + budget_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_evaluation(evaluator: Evaluator, candidate_path: Path,
                   context: EvaluationContext) -> EvaluationResult:
    """Cascade stages in order (stopping at the first that rejects), then ``evaluate``.

    Never raises for evaluator or candidate faults; records ``metrics["eval_s"]`` and,
    when a stage stopped the candidate, ``metrics["cascade_stage"]`` (its 1-based index).
    """
    start = time.perf_counter()
    try:
        with trusted_memory_limit(context.trusted_memory_mb):
            result = _run_stages(evaluator, Path(candidate_path), context)
    except MemoryError:
        result = EvaluationResult.invalid(
            "the trusted evaluator ran out of its memory budget "
            f"({context.trusted_memory_mb} MB) on this candidate's output")
    if not result.valid and not result.reason:
        result.reason = "the evaluator marked the candidate invalid without a reason"
    result.metrics["eval_s"] = time.perf_counter() - start
    return result


def _run_stages(evaluator: Evaluator, candidate_path: Path,
                context: EvaluationContext) -> EvaluationResult:
    result: EvaluationResult | None = None
    try:
        for index, stage in enumerate(cascade_of(evaluator), start=1):
            staged = stage.run(candidate_path, context)
            if not staged.valid or staged.score < stage.min_score:
                if staged.valid:
                    staged = EvaluationResult(
                        valid=False, score=staged.score, metrics=dict(staged.metrics),
                        instances=dict(staged.instances), artifacts=dict(staged.artifacts),
                        run_notes=list(staged.run_notes),
                        compatibility_mode=staged.compatibility_mode,
                        reason=f"stopped at cascade stage '{stage.name}': score "
                               f"{staged.score:g} < {stage.min_score:g}")
                elif not staged.reason:
                    staged.reason = f"rejected at cascade stage '{stage.name}'"
                staged.metrics["cascade_stage"] = float(index)
                result = staged
                break
        if result is None:
            result = evaluator.evaluate(candidate_path, context)
        if not isinstance(result, EvaluationResult):
            raise TypeError(f"evaluate() returned {type(result).__name__}, "
                            "not EvaluationResult")
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported as an invalid result
        result = _evaluator_error(exc)
    return result
