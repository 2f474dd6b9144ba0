"""What the store kits write: program and call records, and two processes writing at once."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from typing import Any

from evolve.database.records import LLMCallRecord, ProgramRecord, new_id

WRITER_TIMEOUT_S = 120  # for both writers together


def program(run_id: str, **fields: Any) -> ProgramRecord:
    values: dict[str, Any] = {
        "id": new_id(),
        "run_id": run_id,
        "code": "def f(x):\n    return x\n",
        "valid": True,
        "score": 1.0,
        "origin": "llm",
    }
    values.update(fields)
    return ProgramRecord(**values)


def call(run_id: str, tokens: int = 10, cost: float = 0.01, **fields: Any) -> LLMCallRecord:
    values: dict[str, Any] = {
        "run_id": run_id,
        "model": "kit-model",
        "prompt_tokens": tokens,
        "completion_tokens": tokens // 2,
        "cost_usd": cost,
        "latency_s": 0.5,
    }
    values.update(fields)
    return LLMCallRecord(**values)


def two_writers(target: Callable[..., None], *args: Any) -> list[int | None]:
    """Run ``target(*args, barrier)`` in two forked processes that pass the barrier together;
    their exit codes (0 each when both finished)."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    workers = [context.Process(target=target, args=(*args, barrier)) for _ in range(2)]
    for process in workers:
        process.start()
    deadline = time.monotonic() + WRITER_TIMEOUT_S
    for process in workers:
        process.join(timeout=max(1.0, deadline - time.monotonic()))
    return [process.exitcode for process in workers]
