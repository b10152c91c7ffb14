"""One governance service per gateway: approvals, promotions, history and stored keys.

Created by the API's lifespan (or the CLI) and attached to the gateway's listeners exactly once,
so every audited alias or stage move lands in history whichever route made it.
"""

from __future__ import annotations

import threading
import weakref

from gateway.core import Gateway
from gateway.governance.approvals import Approvals
from gateway.governance.history import HistoryRecorder
from gateway.governance.keys import KeyStore
from gateway.governance.promotion import Promotions


class Governance:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        config = gateway.config.auth
        self.history = HistoryRecorder(gateway.store)
        self.approvals = Approvals(gateway, config)
        self.promotions = Promotions(gateway, config, self.history)
        self.keys = KeyStore(gateway.store)
        gateway.listeners.append(self.history.on_mutation)

    def detach(self) -> None:
        if self.history.on_mutation in self.gateway.listeners:
            self.gateway.listeners.remove(self.history.on_mutation)


_services: weakref.WeakKeyDictionary[Gateway, Governance] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def governance_for(gateway: Gateway) -> Governance:
    """The gateway's governance service, created (and its history listener attached) on first use."""
    with _lock:
        service = _services.get(gateway)
        if service is None:
            service = _services[gateway] = Governance(gateway)
        return service


def release(gateway: Gateway) -> None:
    with _lock:
        service = _services.pop(gateway, None)
    if service is not None:
        service.detach()
