"""Spot scheduling, one region (Can't Be Late, ADRS) evaluator."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "CantBeLateEvaluator":
        from evaluators.cant_be_late.evaluator import CantBeLateEvaluator

        return CantBeLateEvaluator
    raise AttributeError(name)
