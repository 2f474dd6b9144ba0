"""When LLM failures stop a run: the retry layer has already given up on each call."""

from __future__ import annotations

from evolve.errors import UserError
from evolve.llm.base import LLMError

# Failures that no later call can fix without the user changing the config. A request
# refused after others were answered is about that request (its prompt outgrew the
# server's context, say): it costs its iteration, and llm.stop_after_unusable watches.
FATAL_KINDS = frozenset({"auth", "bad_request"})
FATAL_AFTER_SUCCESS = frozenset({"auth"})
UNREACHABLE_AFTER = 3  # consecutive connection failures, before any success, before giving up


class FailurePolicy:
    """Raises a one-line UserError once the LLM is clearly misconfigured or unreachable;
    other failures only cost their iteration."""

    def __init__(self) -> None:
        self.ever_succeeded = False
        self.connection_failures = 0

    def succeeded(self) -> None:
        self.ever_succeeded = True
        self.connection_failures = 0

    def failed(self, exc: LLMError) -> None:
        fatal = FATAL_AFTER_SUCCESS if self.ever_succeeded else FATAL_KINDS
        if exc.kind in fatal:
            check = ("the API key" if exc.kind == "auth" else
                     "the model name, its args and the server's context length")
            raise UserError(f"the LLM refused the request ({exc}); check {check}", "llm.models")
        if exc.kind in ("connection", "timeout") and not self.ever_succeeded:
            self.connection_failures += 1
            if self.connection_failures >= UNREACHABLE_AFTER:
                raise UserError(
                    f"cannot reach the LLM ({exc}); check base_url and that the server is up",
                    "llm.models",
                )
