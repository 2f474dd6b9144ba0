"""Request parameters a provider rejects: dropped or renamed, remembered per model.

evolve sends ``seed`` (reproducible sampling where the server supports it),
``temperature`` and a token limit with every request. Providers differ: Anthropic and
Gemini take no ``seed``, OpenAI's reasoning models take no ``temperature`` and want
``max_completion_tokens`` instead of ``max_tokens``. Rather than fail the run, a
parameter the provider says it rejects is dropped (or the token limit renamed) for the
rest of the run, once, with a note for the run log. What the user configured
explicitly (``args.extra_body``, ``args.reasoning_effort``) is never dropped: a
rejection of it stays an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from evolve.llm.http_errors import first_line

DROPPABLE = ("seed", "temperature")  # sent by evolve on its own account


def _named(text: str, name: str) -> bool:
    """Whether an error message names parameter ``name`` (quoted, listed or after ':')."""
    return re.search(rf"(?:['\"`\[]|:\s*|\bparameters?\s+){re.escape(name)}\b", text) is not None


class RequestParams:
    """What one model's requests carry; ``adapt`` learns from a rejection."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.token_param = "max_tokens"
        self.dropped: set[str] = set()
        self._notes: list[str] = []

    def build(self, base: dict[str, Any], temperature: float, max_tokens: int,
              seed: int | None) -> dict[str, Any]:
        """``base`` plus the generation parameters this model still takes."""
        args = dict(base)
        args[self.token_param] = max_tokens
        if "temperature" not in self.dropped:
            args["temperature"] = temperature
        if seed is not None and "seed" not in self.dropped:
            args["seed"] = seed
        return args

    def drop_unsupported(self, supported: Iterable[str], provider: str) -> None:
        """Drop up front what a provider is known not to take (LiteLLM's parameter lists)."""
        known = set(supported)
        for name in DROPPABLE:
            if name not in known and name not in self.dropped:
                self.dropped.add(name)
                self._note(f"{provider} does not take '{name}'; it is not sent")

    def adapt(self, message: str, sent: Mapping[str, Any]) -> bool:
        """After a 400: drop or rename the parameter ``message`` names; False when it
        names none that may change (the request is then refused for good)."""
        text = message.lower()
        said = first_line(message)[:200]
        if self.token_param == "max_tokens" and "max_completion_tokens" in text:
            self.token_param = "max_completion_tokens"
            self._note(f"the server rejected 'max_tokens'; 'max_completion_tokens' is sent "
                       f"instead (server said: {said})")
            return True
        for name in DROPPABLE:
            if name in sent and name not in self.dropped and _named(text, name):
                self.dropped.add(name)
                self._note(f"the server rejected '{name}'; it is no longer sent "
                           f"(server said: {said})")
                return True
        return False

    def take_notes(self) -> list[str]:
        """Notes made since the last call, each once."""
        notes, self._notes = self._notes, []
        return notes

    def _note(self, text: str) -> None:
        self._notes.append(f"model {self.model}: {text}")
