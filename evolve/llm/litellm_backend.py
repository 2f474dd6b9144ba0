"""Backend over LiteLLM, for providers that do not speak the OpenAI protocol.

``litellm`` is an optional dependency (``pip install 'evolve[litellm]'``), imported on
first use: it is slow to import and, unless told otherwise, fetches its cost map from
the internet at import time, so ``LITELLM_LOCAL_MODEL_COST_MAP`` is set first. LiteLLM's
own retries are turned off; :mod:`evolve.llm.retry` is the only retry layer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from typing import Any

from evolve.config import LLMConfig, ModelConfig
from evolve.errors import UserError
from evolve.llm.base import Completion, GenerationParams, LLMError, estimate_tokens, messages_text
from evolve.llm.chat_backend import ChatBackend
from evolve.llm.openai_backend import is_local_url, reasoning_of
from evolve.llm.retry import Sleep, call_with_retries

log = logging.getLogger(__name__)

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        raise UserError(
            "the litellm provider needs the litellm package: pip install 'evolve[litellm]'",
            "llm.models.provider",
        ) from None
    litellm.suppress_debug_info = True
    return litellm


class LiteLLMBackend(ChatBackend):
    """``litellm.acompletion`` with our bounded retries; ``model.name`` is LiteLLM's name,
    e.g. ``anthropic/claude-sonnet-4-5`` or ``openai/<name>`` with ``base_url``."""

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
        self._litellm = import_litellm()
        super().__init__(model, llm, sleep=sleep, rng=rng, extra_body=extra_body,
                         reasoning_effort=reasoning_effort)
        self._has_price_override = (
            model.price_in_per_mtok is not None or model.price_out_per_mtok is not None
        )
        self._require_key(where)
        self.api_key = self._api_key()
        self._drop_what_the_provider_does_not_take()

    def _drop_what_the_provider_does_not_take(self) -> None:
        """LiteLLM refuses parameters a provider lacks (``UnsupportedParamsError``, e.g.
        ``seed`` for Anthropic) before sending anything; its own lists say which."""
        try:
            model, provider, _, _ = self._litellm.get_llm_provider(self.model.name)
            supported = self._litellm.get_supported_openai_params(
                model=model, custom_llm_provider=provider
            )
        except Exception as exc:  # noqa: BLE001 - an unknown model: rejections are learnt instead
            log.debug("litellm knows no parameters of %s (%s)", self.model.name, exc)
            return
        if supported:
            self.params.drop_unsupported(supported, str(provider))

    def _require_key(self, where: str) -> None:
        """Fail before any call when the key the model needs is not in the environment."""
        model = self.model
        if is_local_url(model.base_url):
            return
        named = model.api_key_env != DEFAULT_KEY_ENV
        if named or model.base_url:  # the config says which variable holds the key
            if not os.environ.get(model.api_key_env):
                server = f" at {model.base_url}" if model.base_url else ""
                raise UserError(
                    f"environment variable {model.api_key_env} is not set; model '{model.name}'"
                    f"{server} needs an API key "
                    f"(export {model.api_key_env}=... or set api_key_env)",
                    f"{where}.api_key_env",
                )
            return
        try:
            found = self._litellm.validate_environment(model=model.name)
        except Exception as exc:  # noqa: BLE001 - an unknown provider prefix: the call will say
            log.debug("litellm cannot check the environment of %s (%s)", model.name, exc)
            return
        # Only keys: a missing *_API_BASE has a default (e.g. a local Ollama).
        missing = [str(k) for k in found.get("missing_keys") or [] if "KEY" in str(k).upper()
                   or "TOKEN" in str(k).upper()]
        if missing:
            raise UserError(
                f"model '{model.name}' needs {' or '.join(missing)} in the environment "
                f"(export {missing[0]}=..., or name another variable with api_key_env)",
                f"{where}.api_key_env",
            )

    def _api_key(self) -> str | None:
        # LiteLLM finds each provider's standard variable (ANTHROPIC_API_KEY, ...) itself;
        # pass a key only when the config names its variable or the server is OpenAI-style.
        key = os.environ.get(self.model.api_key_env, "")
        named = self.model.api_key_env != DEFAULT_KEY_ENV
        openai_style = self.model.name.startswith("openai/") or self.model.base_url is not None
        if key and (named or openai_style):
            return key
        if is_local_url(self.model.base_url):
            return "EMPTY"
        return None

    def _client_args(self, params: GenerationParams) -> dict[str, Any]:
        args: dict[str, Any] = {"timeout": params.timeout_s, "num_retries": 0, "max_retries": 0}
        if self.model.base_url:
            args["api_base"] = self.model.base_url
        if self.api_key:
            args["api_key"] = self.api_key
        return args

    async def _send(self, args: dict[str, Any], params: GenerationParams) -> Any:
        return await self._litellm.acompletion(**args)

    async def _attempt(self, messages: list[dict[str, str]], params: GenerationParams) -> Any:
        response = await super()._attempt(messages, params)
        choices = getattr(response, "choices", None) or []
        text = (choices[0].message.content or "") if choices else ""
        if not text.strip():
            raise LLMError("empty", f"model {self.model.name} returned no content")
        return response

    def _cost(self, response: Any, prompt_tokens: int, completion_tokens: int) -> float:
        """Config override, else LiteLLM's own cost map, else our table (0 when unknown)."""
        if not self._has_price_override:
            try:
                return float(self._litellm.completion_cost(completion_response=response))
            except Exception as exc:  # noqa: BLE001 - LiteLLM raises for models missing from its map
                log.debug("litellm has no cost for %s (%s); using the price table", self.name, exc)
        return self.price.cost_usd(prompt_tokens, completion_tokens)

    async def complete(
        self, messages: list[dict[str, str]], params: GenerationParams
    ) -> Completion:
        started = time.perf_counter()
        try:
            response = await call_with_retries(
                lambda: self._attempt(messages, params),
                self.llm.retries,
                self.llm.backoff_s,
                self._rng,
                self._sleep,
            )
        except LLMError as exc:
            exc.model = self.model.name
            exc.notes = self.params.take_notes()
            raise
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = getattr(response, "usage", None)
        prompt_tokens = int(
            getattr(usage, "prompt_tokens", 0) or estimate_tokens(messages_text(messages))
        )
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or estimate_tokens(text))
        return Completion(
            text=text,
            model=self.model.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=self._cost(response, prompt_tokens, completion_tokens),
            latency_s=time.perf_counter() - started,
            finish_reason=str(getattr(choice, "finish_reason", "") or ""),
            reasoning=reasoning_of(choice.message),
            notes=self.params.take_notes(),
        )
