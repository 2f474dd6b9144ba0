"""Budgets read the stored counters; the first one reached names itself."""

from __future__ import annotations

import pytest

from evolve.budget import Budget
from evolve.config import BudgetConfig
from evolve.database.records import RunCounters
from evolve.errors import UserError
from evolve.llm.base import LLMError
from evolve.llm.failures import UNREACHABLE_AFTER, FailurePolicy


def test_each_budget_stops_with_its_reason() -> None:
    budget = Budget.for_invocation(BudgetConfig(iterations=10, evaluations=5, usd=1.0), RunCounters())
    assert budget.exhausted(RunCounters(iterations=3, evaluations=2, usd=0.5)) == ""
    assert budget.exhausted(RunCounters(iterations=10)) == "iteration budget reached"
    assert budget.exhausted(RunCounters(evaluations=5)) == "evaluation budget reached"
    assert budget.exhausted(RunCounters(usd=1.25)) == "USD budget reached"
    assert Budget(None, wall_time_s=0.0).exhausted(RunCounters()) == "wall-time budget reached"


def test_resume_with_extra_iterations_counts_from_what_was_done() -> None:
    budget = Budget.for_invocation(BudgetConfig(iterations=50), RunCounters(iterations=50), 10)
    assert budget.iterations == 60
    assert budget.exhausted(RunCounters(iterations=59)) == ""


def test_failure_policy() -> None:
    with pytest.raises(UserError, match="refused"):
        FailurePolicy().failed(LLMError("auth", "bad key"))
    policy = FailurePolicy()
    for _ in range(UNREACHABLE_AFTER - 1):
        policy.failed(LLMError("connection", "refused"))
    with pytest.raises(UserError, match="cannot reach"):
        policy.failed(LLMError("connection", "refused"))
    policy = FailurePolicy()
    policy.succeeded()  # once a call worked, outages only cost iterations
    for _ in range(UNREACHABLE_AFTER * 2):
        policy.failed(LLMError("connection", "refused"))
    policy.failed(LLMError("server", "500"))
    policy.failed(LLMError("bad_request", "prompt exceeds the context"))  # that request only
    with pytest.raises(UserError, match="check the API key"):
        policy.failed(LLMError("auth", "key revoked"))
    with pytest.raises(UserError, match="context length"):
        FailurePolicy().failed(LLMError("bad_request", "no such model"))
