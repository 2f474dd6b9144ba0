"""Backend for any OpenAI-compatible chat-completions server (OpenAI, vLLM, SGLang, ...).

The ``openai`` client is built with ``max_retries=0``: retries live in one place
(:mod:`evolve.llm.retry`), so a call makes at most ``1 + llm.retries`` requests.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import random
import time
from typing import Any
from urllib.parse import urlparse

from evolve.config import LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm.base import Completion, GenerationParams, LLMError, estimate_tokens, messages_text
from evolve.llm.http_errors import summarise_response, summarise_text
from evolve.llm.pricing import price_for
from evolve.llm.request_params import RequestParams
from evolve.llm.retry import Sleep, call_with_retries, parse_retry_after

log = logging.getLogger(__name__)


def is_local_url(url: str | None) -> bool:
    """True for servers one usually runs oneself: loopback, private networks, bare hostnames."""
    if not url:
        return False
    host = (urlparse(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".local") or "." not in host:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def resolve_api_key(model: ModelConfig, where: str) -> str:
    """The key from ``model.api_key_env``; ``"EMPTY"`` for local servers that need none."""
    key = os.environ.get(model.api_key_env, "")
    if key:
        return key
    if is_local_url(model.base_url):
        return "EMPTY"
    server = model.base_url or "https://api.openai.com/v1"
    raise UserError(
        f"environment variable {model.api_key_env} is not set; model '{model.name}' at {server} "
        f"needs an API key (export {model.api_key_env}=... or set api_key_env)",
        where,
    )


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
    if isinstance(exc, TimeoutError):  # our whole-request deadline (see OpenAIBackend._attempt)
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


def reasoning_of(message: Any) -> str:
    """Reasoning a server returned beside the answer: ``reasoning_content`` (DeepSeek,
    vLLM, llama.cpp, LiteLLM) or ``reasoning`` (Ollama, OpenRouter)."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(message, name, None)
        if value is None:
            extra = getattr(message, "model_extra", None) or {}
            value = extra.get(name) if isinstance(extra, dict) else None
        if isinstance(value, str) and value.strip():
            return value
    return ""


class OpenAIBackend:
    """Chat completions against ``model.base_url`` with our bounded retries."""

    def __init__(
        self,
        model: ModelConfig,
        llm: LLMConfig,
        *,
        where: str = "llm.models",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        extra_body: dict[str, Any] | None = None,
        reasoning_effort: str | None = None,
    ) -> None:
        self.model = model
        self.llm = llm
        self.name = model.name
        self.api_key = resolve_api_key(model, f"{where}.api_key_env")
        self.price = price_for(model)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.params = RequestParams(model.name)  # what this model rejected, learnt per run
        # Passed through as configured (llm.models[i].args): fields the server takes
        # beyond the OpenAI ones (extra_body) and the reasoning effort of reasoning models.
        self.extra_body = dict(extra_body or {})
        self.reasoning_effort = reasoning_effort
        self._warned_price = False
        self.requests_sent = 0

    def _get_client(self) -> Any:
        # An httpx pool belongs to the event loop that opened it; rebuild for a new loop.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            import openai

            self._client = openai.AsyncOpenAI(
                base_url=self.model.base_url,
                api_key=self.api_key,
                max_retries=0,
                timeout=self.llm.timeout_s,
            )
            self._client_loop = loop
        return self._client

    def _request_args(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> dict[str, Any]:
        base: dict[str, Any] = {"model": self.model.name, "messages": messages}
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
        where = f"model {self.model.name}"
        for _ in range(4):  # the first request, then one per parameter adapted
            self.requests_sent += 1
            args = self._request_args(messages, params)
            try:
                # The client's timeout bounds each read, so a server trickling bytes never
                # trips it; the deadline around it bounds the whole request.
                async with asyncio.timeout(params.timeout_s):
                    return await self._get_client().chat.completions.create(
                        **args, timeout=params.timeout_s
                    )
            except Exception as exc:  # noqa: BLE001 - every client failure becomes an LLMError
                error = llm_error_from_exception(exc, where)
                if error.kind == "auth":
                    error.message += f" (check the key in ${self.model.api_key_env})"
                    error.args = (error.message,)
                if error.kind == "bad_request" and self.params.adapt(error.message, args):
                    continue
                raise error from None
        raise LLMError("bad_request", f"{where}: request rejected after adapting parameters")

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        # Empty answers are billed too (e.g. a reasoning model that spent max_tokens on
        # thinking): their tokens count with the answer that follows, or with the failure.
        unused = [0, 0]

        async def once() -> tuple[Any, str]:
            response = await self._attempt(messages, params)
            choices = getattr(response, "choices", None) or []
            text = (choices[0].message.content or "") if choices else ""
            if not text.strip():
                usage = getattr(response, "usage", None)
                unused[0] += int(getattr(usage, "prompt_tokens", None) or 0)
                unused[1] += int(getattr(usage, "completion_tokens", None) or 0)
                raise LLMError("empty", f"model {self.model.name} returned no content")
            return response, text

        try:
            response, text = await call_with_retries(
                once, self.llm.retries, self.llm.backoff_s, self._rng, self._sleep
            )
        except LLMError as exc:
            exc.model = self.model.name
            exc.prompt_tokens, exc.completion_tokens = unused
            exc.cost_usd = self.price.cost_usd(*unused)
            exc.notes = self.params.take_notes()
            raise
        usage = getattr(response, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None) or estimate_tokens(
            messages_text(messages)
        )
        completion_tokens = getattr(usage, "completion_tokens", None) or estimate_tokens(text)
        prompt_tokens, completion_tokens = (
            int(prompt_tokens) + unused[0], int(completion_tokens) + unused[1]
        )
        self._warn_unknown_price()
        return Completion(
            text=text,
            model=self.model.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self.price.cost_usd(prompt_tokens, completion_tokens),
            latency_s=time.perf_counter() - started,
            finish_reason=str(response.choices[0].finish_reason or ""),
            reasoning=reasoning_of(response.choices[0].message),
            notes=self.params.take_notes(),
        )

    async def aclose(self) -> None:
        """Close the HTTP connection pool (call from the loop that used the backend)."""
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._client_loop = None

    def _warn_unknown_price(self) -> None:
        if (
            not self.price.known
            and not self._warned_price
            and not is_local_url(self.model.base_url)
        ):
            self._warned_price = True
            log.warning(
                "no price known for model %s: its cost counts as 0 USD; set price_in_per_mtok "
                "and price_out_per_mtok in its config for USD budgets to see it",
                self.model.name,
            )
