"""Receivers can verify what the gateway sends with the documented Standard Webhooks algorithm."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gateway.events import SignatureError, sign, verify_signature
from gateway.events.signing import new_secret, signature_headers

# The published Standard Webhooks test vector: an existing receiver library verifies what we send.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def documented_signature(secret: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """docs/events.md, written out independently of gateway.events.signing."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_signature_matches_the_standard_webhooks_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIGNATURE
    headers = {"Webhook-Id": VECTOR_ID, "Webhook-Timestamp": str(VECTOR_TS), "Webhook-Signature": VECTOR_SIGNATURE}
    verify_signature(VECTOR_SECRET, VECTOR_BODY, headers, now=VECTOR_TS + 10)


def test_generated_secrets_are_unique_whsec_keys_of_32_bytes() -> None:
    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_") and len(base64.b64decode(a[6:])) == 32
    headers = signature_headers(a, "msg_1", b"{}")
    assert headers["webhook-signature"] == documented_signature(a, "msg_1", headers["webhook-timestamp"], b"{}")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": b'{"test": 2432232315}'}, "no webhook-signature entry matches"),
        ({"secret": new_secret()}, "no webhook-signature entry matches"),
        ({"webhook-id": "msg_other"}, "no webhook-signature entry matches"),
        ({"now": VECTOR_TS + 301}, "more than 300s"),
        ({"now": VECTOR_TS - 301}, "more than 300s"),
        ({"webhook-signature": None}, "missing"),
    ],
)
def test_tampered_replayed_or_unsigned_requests_are_refused(change: dict, reason: str) -> None:  # type: ignore[type-arg]
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIGNATURE}
    for key in ("webhook-id", "webhook-signature"):
        if key in change:
            if change[key] is None:
                del headers[key]
            else:
                headers[key] = change[key]
    with pytest.raises(SignatureError, match=reason):
        verify_signature(change.get("secret", VECTOR_SECRET), change.get("body", VECTOR_BODY), headers,
                         now=change.get("now", VECTOR_TS))


def test_any_of_several_signatures_may_match_for_secret_rotation() -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS),
               "webhook-signature": f"v1,bm9wZQ== {VECTOR_SIGNATURE}"}
    verify_signature(VECTOR_SECRET, VECTOR_BODY, headers, now=VECTOR_TS)
