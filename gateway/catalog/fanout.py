"""Ask many registries at once and answer at the deadline with whatever arrived.

Each registry's work runs on its own daemon thread: a registry that hangs keeps its thread
until its client times out, but the caller never waits for it past the deadline, and process
exit never waits for it either. Calls go through the registry's concurrency bound and rate
limit like every gateway call, with two differences that keep the deadline honest:
waiting for a slot or a token stops at the deadline, and a retry whose backoff (or
Retry-After) would end past the deadline is not attempted — the error is reported instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from adapters.base import RegistryAdapter
from adapters.retry import call_with_retry
from mapping.errors import RegistryError, Unavailable

T = TypeVar("T")
TIMEOUT = "timeout"


class DeadlineExceeded(Unavailable):
    """The registry could not answer within the search deadline."""


@dataclass
class RegistryFailure:
    registry: str
    kind: str
    message: str
    retry_after: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, "kind": self.kind, "message": self.message, "retry_after": self.retry_after}


@dataclass
class FanOut:
    """Per-registry results of the registries that answered in time, one failure per other one."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: list[RegistryFailure] = field(default_factory=list)


def call_before(gateway: Any, registry: str, fn: Callable[[RegistryAdapter], T], deadline_at: float) -> T:
    """``Gateway.call`` bounded by a ``time.monotonic()`` deadline (see the module docstring)."""
    handle = gateway.handle(registry)
    adapter = gateway.adapter(registry)
    last: list[RegistryError] = []

    def attempt() -> T:
        if handle.bucket is not None:
            wait_for = handle.bucket.reserve()
            if time.monotonic() + wait_for > deadline_at:
                raise DeadlineExceeded(f"rate limit: the next call slot is {wait_for:.1f}s away, past the deadline",
                                       registry=registry)
            time.sleep(wait_for)
        remaining = deadline_at - time.monotonic()
        if remaining <= 0 or not handle.semaphore.acquire(timeout=remaining):
            raise DeadlineExceeded("every connection to this registry stayed busy until the deadline", registry=registry)
        try:
            return fn(adapter)
        finally:
            handle.semaphore.release()

    def sleep(seconds: float) -> None:
        if time.monotonic() + seconds > deadline_at:
            raise last[-1]  # retrying would outlive the deadline: report what the registry said
        time.sleep(seconds)

    return call_with_retry(attempt, gateway.retry, sleep=sleep, on_retry=lambda _n, err, _w: last.append(err))


def fan_out(
    gateway: Any,
    registries: Iterable[str],
    work: Callable[[str, float], T],
    deadline: float,
) -> FanOut:
    """Run ``work(registry, deadline_at)`` for every registry concurrently; stop waiting at ``deadline`` s."""
    names = list(dict.fromkeys(registries))
    deadline_at = time.monotonic() + deadline
    futures: dict[Future[T], str] = {}
    for name in names:
        future: Future[T] = Future()
        futures[future] = name
        threading.Thread(target=_run, args=(future, work, name, deadline_at), name=f"mrg-fanout-{name}",
                         daemon=True).start()
    done, _pending = wait(futures, timeout=max(0.0, deadline_at - time.monotonic()))
    out = FanOut()
    for future, name in futures.items():
        if future not in done:
            out.failures.append(RegistryFailure(name, TIMEOUT, f"no answer within the {deadline:g}s deadline"))
            continue
        exc = future.exception()
        if exc is None:
            out.results[name] = future.result()
        else:
            out.failures.append(failure(name, exc, deadline))
    out.failures.sort(key=lambda f: f.registry)
    return out


def failure(registry: str, exc: BaseException, deadline: float) -> RegistryFailure:
    """One ``errors[]`` entry: the taxonomy kind where known, the registry's own message."""
    if isinstance(exc, DeadlineExceeded):
        return RegistryFailure(registry, TIMEOUT, f"{exc.message} ({deadline:g}s deadline)")
    if isinstance(exc, RegistryError):
        return RegistryFailure(registry, exc.kind.value, exc.message, exc.retry_after)
    return RegistryFailure(registry, "unavailable", f"{type(exc).__name__}: {exc}")


def _run(future: Future[Any], work: Callable[[str, float], Any], name: str, deadline_at: float) -> None:
    if not future.set_running_or_notify_cancel():
        return
    try:
        future.set_result(work(name, deadline_at))
    except BaseException as exc:  # noqa: BLE001 - one broken registry never fails the search
        future.set_exception(exc)
