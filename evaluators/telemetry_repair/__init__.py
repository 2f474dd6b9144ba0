"""Network telemetry repair (ADRS) evaluator."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "TelemetryRepairEvaluator":
        from evaluators.telemetry_repair.evaluator import TelemetryRepairEvaluator

        return TelemetryRepairEvaluator
    raise AttributeError(name)
