"""Cloud transfer (Cloudcast) evaluator. Kept light: the sandbox child imports
``evaluators.cloud_transfer.convert`` and should not pay for the evaluator's imports."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "CloudTransferEvaluator":
        from evaluators.cloud_transfer.evaluator import CloudTransferEvaluator

        return CloudTransferEvaluator
    raise AttributeError(name)
