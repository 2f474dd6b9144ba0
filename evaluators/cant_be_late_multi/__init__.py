"""Spot scheduling across regions (ADRS cant-be-late-multi) evaluator."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "CantBeLateMultiEvaluator":
        from evaluators.cant_be_late_multi.evaluator import CantBeLateMultiEvaluator

        return CantBeLateMultiEvaluator
    raise AttributeError(name)
