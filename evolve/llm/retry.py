"""One bounded retry layer for HTTP backends.

Client libraries are configured with no retries of their own (``max_retries=0``), so
the number of requests a call can make is exactly ``1 + retries``: exponential
backoff with full jitter, a server's Retry-After honoured up to a cap, and no retry
for errors that another attempt cannot fix (auth, bad request).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from evolve.llm.base import LLMError

T = TypeVar("T")

MAX_RETRY_AFTER_S = 60.0  # never let one server header stall an iteration longer than this
MAX_BACKOFF_S = 30.0

Sleep = Callable[[float], Awaitable[None]]


def backoff_delay(attempt: int, base_s: float, rng: random.Random) -> float:
    """Delay before retry number ``attempt`` (1-based): jittered ``base * 2**(attempt-1)``."""
    ceiling = min(MAX_BACKOFF_S, base_s * 2.0 ** (attempt - 1))
    return ceiling * (0.5 + 0.5 * rng.random())


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    if not headers:
        return None
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = lowered.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def call_with_retries(
    attempt_once: Callable[[], Awaitable[T]],
    retries: int,
    backoff_s: float,
    rng: random.Random,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run ``attempt_once`` up to ``1 + retries`` times; only LLMError is expected."""
    attempt = 0
    while True:
        try:
            return await attempt_once()
        except LLMError as exc:
            attempt += 1
            if not exc.retryable or attempt > retries:
                if attempt > 1 and exc.retryable:
                    exc.message = f"{exc.message} (after {attempt} attempts)"
                    exc.args = (exc.message,)
                raise
            delay = backoff_delay(attempt, backoff_s, rng)
            if exc.retry_after_s is not None:
                delay = min(MAX_RETRY_AFTER_S, max(delay, exc.retry_after_s))
            await sleep(delay)
