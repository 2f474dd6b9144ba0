"""GPU model placement (PRISM, ADRS) evaluator."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "PrismEvaluator":
        from evaluators.prism.evaluator import PrismEvaluator

        return PrismEvaluator
    raise AttributeError(name)
