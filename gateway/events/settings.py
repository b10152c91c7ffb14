"""How hard the delivery worker tries: attempts, backoff, timeouts, polling.

Defaults suit a production receiver that may be down for hours: 15 attempts, waits from 5 s
doubling up to an hour, so a delivery is given up 2.7 to 5.4 hours after its first failure.
Every value can be set with an environment variable ``MRG_WEBHOOK_<NAME>`` (e.g.
``MRG_WEBHOOK_MAX_ATTEMPTS=5``); tests pass small values.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class DeliverySettings:
    max_attempts: int = 15
    backoff_base_s: float = 5.0
    backoff_cap_s: float = 3600.0
    retry_after_cap_s: float = 6 * 3600.0
    timeout_s: float = 10.0
    poll_interval_s: float = 1.0
    lease_s: float = 60.0
    batch_size: int = 20
    concurrency: int = 4
    retention_days: float = 30.0  # settled deliveries (and their log) older than this are pruned
    prune_interval_s: float = 600.0

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> DeliverySettings:
        env = os.environ if environ is None else environ
        values: dict[str, int | float] = {}
        for f in fields(cls):
            raw = env.get(f"MRG_WEBHOOK_{f.name.upper()}")
            if raw is None:
                continue
            try:
                values[f.name] = int(raw) if f.type in ("int", int) else float(raw)
            except ValueError:
                raise ValueError(f"MRG_WEBHOOK_{f.name.upper()}: {raw!r} is not a number") from None
        return cls(**values)  # type: ignore[arg-type]

    def backoff(self, failures: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failures``-th failed attempt.

        Exponential with "equal jitter" (half fixed, half random) so receivers that come back
        up are not hit by every queued delivery at once; a ``Retry-After`` from the receiver is
        a floor (capped, so a typo cannot park a delivery for a year).
        """
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2 ** max(0, failures - 1))
        delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.retry_after_cap_s))
        return delay
