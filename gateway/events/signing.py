"""Webhook signatures in the Standard Webhooks style (https://www.standardwebhooks.com).

Every delivery carries three headers:

- ``webhook-id``: the delivery id, identical on every retry of the same delivery (dedupe on it);
- ``webhook-timestamp``: Unix seconds when this attempt was signed;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>``,
  possibly several space-separated entries (one per active secret).

The secret is shown once as ``whsec_<base64 key>``; the HMAC key is the base64-decoded part.
Signing the id and the timestamp with the body lets receivers refuse replays: reject a
timestamp outside a few minutes of now and an id already processed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The request was not signed with this secret, or was signed too long ago (a replay)."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise SignatureError("the secret is not a whsec_<base64> webhook secret") from None


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    message = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str | Sequence[str], webhook_id: str, body: bytes,
                      timestamp: int | None = None) -> dict[str, str]:
    """Headers for one attempt, with one signature per secret given (all of them during a rotation)."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secret] if isinstance(secret, str) else list(secret)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(ts),
            "webhook-signature": " ".join(sign(key, webhook_id, ts, body) for key in keys)}


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Check a received webhook; raise :class:`SignatureError` unless it is authentic and fresh.

    For receivers: pass the raw request body (bytes, before any JSON parsing) and its headers
    (any mapping; names are matched case-insensitively). The comparison is constant-time.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    webhook_id, stamp, signatures = (lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not webhook_id or not stamp or not signatures:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError(f"webhook-timestamp is more than {tolerance_s}s away from now (replay or clock skew)")
    expected = sign(secret, webhook_id, timestamp, body).encode()
    matched = False
    for candidate in signatures.split():
        # Compare every candidate without stopping early: timing reveals nothing about which matched.
        matched |= hmac.compare_digest(expected, candidate.encode())
    if not matched:
        raise SignatureError("no webhook-signature entry matches this secret")
