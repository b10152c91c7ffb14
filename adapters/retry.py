"""Retries for retryable registry errors: exponential backoff with full jitter, Retry-After first.

Only errors whose kind says a retry can help (RateLimited, Unavailable) are retried; a
server's Retry-After wins over the computed delay, capped so one call never hangs a worker.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mapping.errors import RegistryError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 20.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, error: RegistryError, rng: random.Random) -> float:
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return rng.uniform(0, ceiling)


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, RegistryError, float], None] | None = None,
) -> T:
    rng = rng or random.Random()
    for attempt in range(policy.attempts):
        try:
            return fn()
        except RegistryError as error:
            if not error.retryable or attempt == policy.attempts - 1:
                raise
            wait = policy.delay(attempt, error, rng)
            if on_retry:
                on_retry(attempt + 1, error, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


class TokenBucket:
    """Per-registry rate limit: ``rate`` calls per second with bursts up to ``capacity``."""

    def __init__(self, rate: float, capacity: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._clock = clock
        self._stamp = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self, sleep: Callable[[float], None] = time.sleep) -> None:
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
