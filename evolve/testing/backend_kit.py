"""Conformance checks for LLM backends: every backend, built-in or third-party, must pass.

    from evolve.testing.backend_kit import check_backend_completes, check_backend_fails_cleanly
    completion = asyncio.run(check_backend_completes(MyBackend(...), params=...))
    asyncio.run(check_backend_fails_cleanly(MyBackend(... pointing at a dead server ...)))

Each check raises AssertionError with a sentence saying which rule was broken.
"""

from __future__ import annotations

import math
from typing import Any

from evolve.llm.base import ERROR_KINDS, Completion, GenerationParams, LLMBackend, LLMError

DEFAULT_MESSAGES = [
    {"role": "system", "content": "You are a careful programmer."},
    {"role": "user", "content": "Reply with a short greeting."},
]


def check_protocol(backend: Any) -> None:
    """The backend has a non-empty ``name`` and an async ``complete``."""
    assert isinstance(backend, LLMBackend), (
        f"{type(backend).__name__} does not implement LLMBackend"
    )
    assert isinstance(backend.name, str) and backend.name, "backend.name must be a non-empty string"


def check_completion(completion: Any) -> None:
    """A Completion with text, a model name, and non-negative finite usage and cost."""
    assert isinstance(completion, Completion), (
        f"complete() returned {type(completion).__name__}, not Completion"
    )
    assert isinstance(completion.text, str) and completion.text, (
        "Completion.text must be non-empty text"
    )
    assert isinstance(completion.model, str) and completion.model, (
        "Completion.model must name the model"
    )
    for key in ("prompt_tokens", "completion_tokens"):
        value = getattr(completion, key)
        assert isinstance(value, int) and value >= 0, (
            f"Completion.{key} must be an int >= 0, got {value!r}"
        )
    for key in ("cost_usd", "latency_s"):
        value = getattr(completion, key)
        assert isinstance(value, (int, float)) and math.isfinite(value) and value >= 0, (
            f"Completion.{key} must be a finite number >= 0, got {value!r}"
        )
    assert isinstance(completion.reasoning, str), "Completion.reasoning must be text ('' if none)"
    assert isinstance(completion.notes, list) and all(
        isinstance(note, str) for note in completion.notes
    ), "Completion.notes must be a list of sentences"


async def check_backend_completes(
    backend: Any,
    messages: list[dict[str, str]] | None = None,
    params: GenerationParams | None = None,
) -> Completion:
    """One successful call obeys the contract; returns the completion for further checks."""
    check_protocol(backend)
    completion: Completion = await backend.complete(
        messages or DEFAULT_MESSAGES, params or GenerationParams()
    )
    check_completion(completion)
    return completion


async def check_backend_fails_cleanly(
    backend: Any,
    messages: list[dict[str, str]] | None = None,
    params: GenerationParams | None = None,
    expected_kinds: tuple[str, ...] = ERROR_KINDS,
) -> LLMError:
    """A call that cannot succeed raises LLMError with a known kind, never anything else."""
    check_protocol(backend)
    try:
        result = await backend.complete(messages or DEFAULT_MESSAGES, params or GenerationParams())
    except LLMError as exc:
        assert exc.kind in expected_kinds, f"LLMError kind {exc.kind!r} not in {expected_kinds}"
        assert str(exc), "LLMError must carry a message"
        return exc
    except Exception as exc:  # the rule under test: nothing but LLMError escapes
        raise AssertionError(
            f"complete() raised {type(exc).__name__} ({exc}); backends must raise LLMError"
        ) from exc
    raise AssertionError(f"complete() was expected to fail but returned {result!r}")
