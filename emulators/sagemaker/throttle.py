"""An optional request-rate ceiling so clients can exercise their ThrottlingException path.

AWS throttles per account and API; the emulator offers one token bucket for all calls,
off by default (``--max-rps``), answering exactly what AWS answers: ``ThrottlingException``
"Rate exceeded" with HTTP 400.
"""

from __future__ import annotations

import threading
import time

from .errors import Throttling


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens < 1.0:
                raise Throttling("Rate exceeded")
            self.tokens -= 1.0
