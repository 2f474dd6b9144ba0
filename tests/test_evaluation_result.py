"""EvaluationResult invariants every evaluator relies on."""

from __future__ import annotations

import math

from evolve.evaluation.types import EvaluationResult


def test_reason_is_one_line_and_details_become_feedback() -> None:
    result = EvaluationResult.invalid("f() raised ValueError: bad (at c.py:3 in f)\n  File c.py, line 3\n    raise")
    assert result.reason == "f() raised ValueError: bad (at c.py:3 in f)"
    assert "line 3" in result.artifacts["error_details"]


def test_non_finite_score_is_invalid() -> None:
    result = EvaluationResult(valid=True, score=math.nan)
    assert not result.valid and result.score == 0.0 and "non-finite" in result.reason


def test_round_trip() -> None:
    result = EvaluationResult(valid=True, score=0.5, metrics={"a": 1.0}, instances={"w": 0.5},
                              holdout={"h": 0.4}, artifacts={"feedback": "ok"})
    assert EvaluationResult.from_dict(result.to_dict()) == result
