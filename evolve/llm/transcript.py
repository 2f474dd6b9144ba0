"""What of a call is kept: its prompt and raw answer, secrets removed, each text capped.

Prompts hold evaluator feedback and answers hold whatever the model wrote; either may
quote an environment variable, an API key or an ``Authorization`` header. Before a
transcript is stored, the values of the configured models' key variables and of every
environment variable whose name looks secret are replaced by ``[redacted NAME]``, and
text shaped like a key or a bearer token by ``[redacted]``. Each text is then cut to
``llm.transcripts.max_chars`` (its head and its tail kept).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from evolve.config import LLMConfig
from evolve.database.records import Transcript
from evolve.evaluation._confine import looks_secret

MIN_SECRET_CHARS = 8  # shorter values ("1", "true") are not worth hiding and would mangle text
_SHAPES = re.compile(
    r"(?i:\b(?:authorization|proxy-authorization|x-api-key|api[-_]?key)\s*[:=]\s*)"
    r"(?:bearer\s+|basic\s+)?[^\s'\",]{8,}"
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]{16,}"
    r"|\b(?:sk|rk|pk)-[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic (sk-ant-...), Stripe-style keys
    r"|\bAKIA[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b"  # GitHub tokens
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API keys
    r"|\bhf_[A-Za-z0-9]{30,}\b"  # Hugging Face tokens
)
# Text without any of these cannot match _SHAPES (checked first: scanning is the slow part).
_TRIGGERS = ("authorization", "api-key", "api_key", "apikey", "bearer", "sk-", "rk-", "pk-",
             "akia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "aiza", "hf_")


class Redactor:
    """Replaces known secret values and secret-shaped text."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted(
            ((value, name) for name, value in secrets.items() if len(value) >= MIN_SECRET_CHARS),
            key=lambda item: -len(item[0]),
        )

    @classmethod
    def from_environment(cls, key_variables: Iterable[str] = (),
                         environ: Mapping[str, str] | None = None) -> Redactor:
        env = os.environ if environ is None else environ
        named = set(key_variables)
        return cls({name: value for name, value in env.items()
                    if name in named or looks_secret(name)})

    def __call__(self, text: str) -> str:
        for value, name in self.secrets:
            if value in text:
                text = text.replace(value, f"[redacted {name}]")
        lowered = text.lower()
        if not any(trigger in lowered for trigger in _TRIGGERS):
            return text
        return _SHAPES.sub("[redacted]", text)


def cap(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters: its head and tail, and what was left out."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 4
    tail = limit - head
    left_out = len(text) - head - tail
    return (f"{text[:head]}\n[... {left_out} characters not kept (llm.transcripts.max_chars)"
            f" ...]\n{text[len(text) - tail:] if tail else ''}")


class TranscriptPolicy:
    """Whether a run keeps transcripts, and how each is made fit to store."""

    def __init__(self, llm: LLMConfig, environ: Mapping[str, str] | None = None) -> None:
        self.enabled = llm.transcripts.enabled
        self.max_chars = llm.transcripts.max_chars
        self.redact = Redactor.from_environment((m.api_key_env for m in llm.models), environ)

    def capture(self, messages: list[dict[str, str]], answer: str = "",
                reasoning: str = "") -> Transcript | None:
        """The transcript to store with a call, or None when transcripts are off."""
        if not self.enabled:
            return None
        kept = [{"role": self._fit(str(m.get("role", ""))),
                 "content": self._fit(str(m.get("content", "")))} for m in messages]
        return Transcript(kept, self._fit(answer), self._fit(reasoning))

    def _fit(self, text: str) -> str:
        return cap(self.redact(text), self.max_chars)
