"""LLM-SQL prefix reuse (ADRS) evaluator."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "LLMSQLEvaluator":
        from evaluators.llm_sql.evaluator import LLMSQLEvaluator

        return LLMSQLEvaluator
    raise AttributeError(name)
