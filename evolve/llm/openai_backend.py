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
from evolve.llm.chat_backend import ChatBackend
from evolve.llm.retry import Sleep, call_with_retries

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


class OpenAIBackend(ChatBackend):
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
        self.api_key = resolve_api_key(model, f"{where}.api_key_env")
        super().__init__(model, llm, sleep=sleep, rng=rng, extra_body=extra_body,
                         reasoning_effort=reasoning_effort)
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._warned_price = False

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

    async def _send(self, args: dict[str, Any], params: GenerationParams) -> Any:
        return await self._get_client().chat.completions.create(**args, timeout=params.timeout_s)

    def _explain(self, error: LLMError) -> None:
        if error.kind == "auth":
            error.message += f" (check the key in ${self.model.api_key_env})"
            error.args = (error.message,)

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
