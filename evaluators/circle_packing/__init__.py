"""Circle packing: n circles in the unit square, maximise the sum of radii."""

from __future__ import annotations

from evaluators.circle_packing.evaluator import CirclePackingEvaluator, check_packing

__all__ = ["CirclePackingEvaluator", "check_packing"]
