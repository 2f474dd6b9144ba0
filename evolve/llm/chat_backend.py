"""What the OpenAI and LiteLLM backends share: the chat-completions request as configured,
sending it while learning which generation parameters the model rejects, and mapping a
client failure to an :class:`LLMError` (LiteLLM's errors subclass openai's)."""

from __future__ import annotations

import asyncio
import random
from abc import ABC, abstractmethod
from typing import Any

from evolve.config import LLMConfig, ModelConfig
from evolve.llm.base import GenerationParams, LLMError
from evolve.llm.http_errors import summarise_response, summarise_text
from evolve.llm.pricing import price_for
from evolve.llm.request_params import RequestParams
from evolve.llm.retry import Sleep, parse_retry_after


def error_from_status(status: int, detail: str, headers: Any = None) -> LLMError:
    """Map an HTTP status to an LLMError kind; 429 keeps the server's Retry-After."""
    if status == 429:
        return LLMError("rate_limit", detail, retry_after_s=parse_retry_after(headers))
    if status in (401, 403):
        return LLMError("auth", detail)
    if status == 408:
        return LLMError("timeout", detail)
    if status == 409 or status >= 500:
        return LLMError("server", detail)
    return LLMError("bad_request", detail)


def llm_error_from_exception(exc: Exception, where: str) -> LLMError:
    """Map an ``openai`` (or LiteLLM, whose errors subclass openai's) exception."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", f"{where}: request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("connection", f"{where}: connection failed ({exc.__cause__ or exc})")
    if isinstance(exc, TimeoutError):  # our whole-request deadline (see ChatBackend._attempt)
        return LLMError("timeout", f"{where}: no complete answer within the time limit")
    if isinstance(exc, openai.APIStatusError):
        headers = getattr(exc, "litellm_response_headers", None)
        if headers is None and getattr(exc, "response", None) is not None:
            headers = exc.response.headers
        return error_from_status(exc.status_code, f"{where}: {status_summary(exc)}", headers)
    return LLMError("server", f"{where}: {type(exc).__name__}: {summarise_text(str(exc))}")


def status_summary(exc: Any) -> str:
    """An error response in one line: status, content type, the first line of the body
    (LiteLLM's errors carry the provider's body in their message instead)."""
    response = getattr(exc, "response", None)
    content_type = str(response.headers.get("content-type", "")) if response is not None else ""
    body = getattr(exc, "body", None)
    if body is None or getattr(exc, "llm_provider", None):
        body = str(getattr(exc, "message", "") or exc)
    return summarise_response(int(exc.status_code), content_type, body)


class ChatBackend(ABC):
    """A subclass says what its client takes beside the common fields (``_client_args``)
    and sends one request (``_send``)."""

    def __init__(
        self,
        model: ModelConfig,
        llm: LLMConfig,
        *,
        sleep: Sleep,
        rng: random.Random | None,
        extra_body: dict[str, Any] | None,
        reasoning_effort: str | None,
    ) -> None:
        self.model = model
        self.llm = llm
        self.name = model.name
        self.price = price_for(model)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.params = RequestParams(model.name)  # what this model rejected, learnt per run
        # Passed through as configured (llm.models[i].args): fields the server takes
        # beyond the OpenAI ones (extra_body) and the reasoning effort of reasoning models.
        self.extra_body = dict(extra_body or {})
        self.reasoning_effort = reasoning_effort
        self.requests_sent = 0

    def _client_args(self, params: GenerationParams) -> dict[str, Any]:
        return {}

    @abstractmethod
    async def _send(self, args: dict[str, Any], params: GenerationParams) -> Any:
        """Send one request with ``args``; the client's answer object."""

    def _explain(self, error: LLMError) -> None:
        """Add what the user can do about ``error`` to its message (nothing by default)."""
        return None

    def _request_args(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> dict[str, Any]:
        base: dict[str, Any] = {
            "model": self.model.name, "messages": messages, **self._client_args(params),
        }
        if self.reasoning_effort is not None:
            base["reasoning_effort"] = self.reasoning_effort
        if self.extra_body:
            base["extra_body"] = self.extra_body
        temperature = self.model.temperature
        return self.params.build(
            base, params.temperature if temperature is None else temperature,
            params.max_tokens, params.seed,
        )  # fmt: skip

    async def _attempt(self, messages: list[dict[str, str]], params: GenerationParams) -> Any:
        """One request; sent again with a parameter the model rejected dropped or renamed."""
        where = f"model {self.model.name}"
        for _ in range(4):  # the first request, then one per parameter adapted
            self.requests_sent += 1
            args = self._request_args(messages, params)
            try:
                # The client's timeout bounds each read, so a server trickling bytes never
                # trips it; the deadline around it bounds the whole request (asyncio.timeout,
                # not wait_for: under wait_for LiteLLM's logging worker hangs at shutdown).
                async with asyncio.timeout(params.timeout_s):
                    return await self._send(args, params)
            except Exception as exc:  # noqa: BLE001 - every client failure becomes an LLMError
                error = llm_error_from_exception(exc, where)
                self._explain(error)
                if error.kind == "bad_request" and self.params.adapt(error.message, args):
                    continue
                raise error from None
        raise LLMError("bad_request", f"{where}: request rejected after adapting parameters")
