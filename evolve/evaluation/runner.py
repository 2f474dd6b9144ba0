"""Run one evaluator on one candidate: the optional cascade, then ``evaluate``."""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from evolve.evaluation.types import EvaluationContext, EvaluationResult, Evaluator, cascade_of


def _evaluator_error(exc: BaseException) -> EvaluationResult:
    # A trusted evaluator raising is an evaluator bug, not the candidate's fault.
    result = EvaluationResult.invalid(f"evaluator error: {type(exc).__name__}: {exc}")
    result.artifacts["evaluator_traceback"] = "".join(traceback.format_exception(exc))[-8000:]
    return result


def run_evaluation(evaluator: Evaluator, candidate_path: Path,
                   context: EvaluationContext) -> EvaluationResult:
    """Cascade stages in order (stopping at the first that rejects), then ``evaluate``.

    Never raises for evaluator or candidate faults; records ``metrics["eval_s"]`` and,
    when a stage stopped the candidate, ``metrics["cascade_stage"]`` (its 1-based index).
    """
    start = time.perf_counter()
    candidate_path = Path(candidate_path)
    result: EvaluationResult | None = None
    try:
        for index, stage in enumerate(cascade_of(evaluator), start=1):
            staged = stage.run(candidate_path, context)
            if not staged.valid or staged.score < stage.min_score:
                if staged.valid:
                    staged = EvaluationResult(
                        valid=False, score=staged.score, metrics=dict(staged.metrics),
                        instances=dict(staged.instances), artifacts=dict(staged.artifacts),
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
    except Exception as exc:  # noqa: BLE001 - reported as an invalid result
        result = _evaluator_error(exc)
    if not result.valid and not result.reason:
        result.reason = "the evaluator marked the candidate invalid without a reason"
    result.metrics["eval_s"] = time.perf_counter() - start
    return result
