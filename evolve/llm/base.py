"""The LLM backend seam: request parameters, the completion record, the error type.

Every backend (OpenAI-compatible HTTP, LiteLLM, the ensemble, the offline mutation
engine) implements :class:`LLMBackend` and reports failures only as :class:`LLMError`,
so the controller handles one exception type with a machine-readable ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from evolve.prompts import PromptContext

ERROR_KINDS = ("timeout", "rate_limit", "server", "connection", "auth", "empty", "bad_request")
# Failures worth another attempt: they depend on the moment, not on the request.
RETRYABLE_KINDS = frozenset({"timeout", "rate_limit", "server", "connection", "empty"})


@dataclass
class Completion:
    """One answer from a model, with what it cost."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    finish_reason: str = ""  # "stop", "length" (truncated), ... when the backend reports it


@dataclass
class GenerationParams:
    temperature: float = 0.7
    max_tokens: int = 4096
    timeout_s: float = 120.0
    seed: int | None = None
    # Structured view of the prompt for the offline engine; HTTP backends ignore it.
    context: PromptContext | None = None


class LLMError(Exception):
    """A failed LLM call. ``kind`` is one of :data:`ERROR_KINDS`."""

    def __init__(self, kind: str, message: str, retry_after_s: float | None = None) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown LLMError kind {kind!r} (known: {', '.join(ERROR_KINDS)})")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after_s = retry_after_s  # server-requested wait (429 Retry-After)
        self.model = ""  # the model that failed, set by backends that know it
        # What the failed call was billed for (answers that came back unusable), if known.
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost_usd = 0.0

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@runtime_checkable
class LLMBackend(Protocol):
    name: str

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion: ...


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters per token) when a server reports none."""
    return (len(text) + 3) // 4


def messages_text(messages: list[dict[str, str]]) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages)
