"""Events and webhooks: every audited change becomes a CloudEvent, delivered durably.

- :mod:`~gateway.events.cloudevents` — event types and payloads derived from audit rows;
- :mod:`~gateway.events.outbox` — delivery rows written in the audit transaction;
- :mod:`~gateway.events.worker` — claims and sends due deliveries (safe across replicas);
- :mod:`~gateway.events.signing` — Standard Webhooks signatures; receivers call
  :func:`verify_signature`.

See docs/events.md for the wire format and the delivery guarantees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.events.cloudevents import EVENT_TYPES
from gateway.events.settings import DeliverySettings
from gateway.events.signing import SignatureError, sign, verify_signature

if TYPE_CHECKING:
    from gateway.store import Store


def install_outbox(store: Store) -> None:
    """Queue deliveries for every event this store records, in the audit transaction.

    The app's lifespan does this for the server. Call it wherever else a Store is opened that
    records mutations (the CLI's migrations), so their events reach subscribers too: the
    server's worker delivers whatever any process queued.
    """
    from gateway.events.outbox import attach

    attach(store, DeliverySettings.from_env().max_attempts)


__all__ = ["EVENT_TYPES", "DeliverySettings", "SignatureError", "install_outbox", "sign", "verify_signature"]
