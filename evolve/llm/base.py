"""The LLM backend seam: request parameters, the completion record, the error type.

Every backend (OpenAI-compatible HTTP, LiteLLM, the ensemble, the offline mutation
engine) implements :class:`LLMBackend` and reports failures only as :class:`LLMError`,
so the controller handles one exception type with a machine-readable ``kind``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

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
    # Reasoning the server returned apart from the answer (``reasoning_content``); reasoning
    # inside ``text`` (``<think>`` blocks) stays there: evolve.llm.reasoning strips it.
    reasoning: str = ""
    # What the backend changed about its requests during this call, one sentence each
    # (e.g. a parameter the provider rejected is no longer sent); shown in the run log.
    notes: list[str] = field(default_factory=list)


@dataclass
class EditRequest:
    """What the prompt asks for, as data: the offline engine answers from this instead of
    reading the prompt text (HTTP backends ignore it)."""

    parent_code: str
    inspirations: list[tuple[str, str]] = field(default_factory=list)  # (program id, code)
    mode: str = "diff"  # "diff" | "rewrite"
    language: str = "python"
    max_changed_lines: int | None = None
    # A folder program: its files (``parent_code`` is their combined text), each file's
    # language name, and the inspirations' files (program id, files).
    files: dict[str, str] = field(default_factory=dict)
    file_languages: dict[str, str] = field(default_factory=dict)
    inspiration_files: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@dataclass
class GenerationParams:
    temperature: float = 0.7
    max_tokens: int = 4096
    timeout_s: float = 120.0
    seed: int | None = None
    context: EditRequest | None = None  # for the offline engine; HTTP backends ignore it


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
        self.latency_s = 0.0  # how long the failed call took, set by the caller that timed it
        self.notes: list[str] = []  # as Completion.notes

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


@runtime_checkable
class ClosableBackend(Protocol):
    """A backend holding connections that must be closed inside the running event loop."""

    async def aclose(self) -> None: ...


def estimate_tokens(text: str) -> int:
    """Rough token count (about four characters per token) when a server reports none."""
    return (len(text) + 3) // 4


def messages_text(messages: list[dict[str, str]]) -> str:
    return "\n".join(str(m.get("content", "")) for m in messages)
