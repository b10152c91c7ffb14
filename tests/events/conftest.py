"""Fixtures for the events room: a live webhook receiver and delivery settings fast enough for tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from gateway.events.outbox import attach
from gateway.events.settings import DeliverySettings
from gateway.store import Store
from tests.events.receiver import Receiver, start_receiver

T = TypeVar("T")

# Real backoff shape, tiny base: a retry after a failure comes 25-50 ms later, not seconds.
FAST = DeliverySettings(max_attempts=5, backoff_base_s=0.05, backoff_cap_s=0.2, timeout_s=5.0,
                        poll_interval_s=0.05, lease_s=5.0, batch_size=20, concurrency=2)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """The gateway's store on each database, with the outbox hook attached (deliveries get written)."""
    s = Store(database_url)
    attach(s, FAST.max_attempts)
    yield s
    s.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = start_receiver()
    yield r
    r.close()


def eventually(check: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.02) -> T:
    """Poll until ``check`` returns something truthy (the worker settles rows after the POST returns)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        time.sleep(interval)
