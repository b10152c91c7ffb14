"""Retries, rate limits and the lazy backend registry."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from adapters.registry import adapter_class
from adapters.retry import RetryPolicy, TokenBucket, call_with_retry
from mapping.errors import InvalidInput, NotFound, RateLimited, Unavailable


def test_retries_retryable_errors_then_succeeds() -> None:
    calls, sleeps = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise Unavailable("down")
        return "ok"

    assert call_with_retry(flaky, RetryPolicy(attempts=5), sleep=sleeps.append, rng=random.Random(1)) == "ok"
    assert len(calls) == 3 and len(sleeps) == 2
    assert all(0 <= s <= RetryPolicy().max_delay for s in sleeps)


def test_retry_after_wins_over_backoff() -> None:
    sleeps: list[float] = []
    attempts = iter([RateLimited("slow down", retry_after=7.0)])

    def fn() -> str:
        for err in attempts:
            raise err
        return "ok"

    call_with_retry(fn, RetryPolicy(), sleep=sleeps.append)
    assert sleeps == [7.0]


def test_non_retryable_errors_raise_at_once() -> None:
    calls = []

    def fn() -> None:
        calls.append(1)
        raise NotFound("gone")

    with pytest.raises(NotFound):
        call_with_retry(fn, RetryPolicy(attempts=5), sleep=lambda s: None)
    assert calls == [1]


def test_gives_up_after_the_last_attempt() -> None:
    with pytest.raises(Unavailable):
        call_with_retry(lambda: (_ for _ in ()).throw(Unavailable("x")), RetryPolicy(attempts=3), sleep=lambda s: None)


def test_token_bucket_spaces_calls_past_the_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, capacity=2.0, clock=lambda: now[0])
    assert bucket.reserve() == 0.0 and bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.5)
    now[0] = 10.0
    assert bucket.reserve() == 0.0


def test_unknown_kind_names_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        adapter_class("oracle")
    assert info.value.field == "kind" and "mlflow" in info.value.message


def test_importing_the_gateway_imports_no_cloud_sdk() -> None:
    code = (
        "import sys; import gateway.api, gateway.cli, adapters.registry, adapters.mlflow; "
        "from gateway.config import embedded_default; from gateway.api import create_app; "
        "create_app(embedded_default('/tmp/mrg-lazy-check')); "
        "heavy = [m for m in ('mlflow', 'boto3', 'google.cloud.aiplatform', 'azure.ai.ml', 'huggingface_hub') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
