"""Transaction scheduling (ADRS) evaluator. Kept light: the sandbox child imports
``evaluators.txn_scheduling.harness`` and should not pay for the evaluator's imports."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "TxnSchedulingEvaluator":
        from evaluators.txn_scheduling.evaluator import TxnSchedulingEvaluator

        return TxnSchedulingEvaluator
    raise AttributeError(name)
