"""Wiring events into a running gateway: the outbox hook, the worker, and the wake-up listener."""

from __future__ import annotations

from gateway.core import Gateway, Mutation
from gateway.events.outbox import attach, attached, detach
from gateway.events.settings import DeliverySettings
from gateway.events.worker import DeliveryWorker


class EventsRuntime:
    """Started by the app's lifespan; ``stop()`` leaves undelivered events in the outbox for later."""

    def __init__(self, gateway: Gateway, settings: DeliverySettings | None = None) -> None:
        self.gateway = gateway
        self.settings = settings or DeliverySettings.from_env()
        self.worker = DeliveryWorker(gateway.store, self.settings)
        # Someone (e.g. the Gateway itself) may have attached the outbox already: then it stays on at stop.
        self._owned_hook = None if attached(gateway.store) else attach(gateway.store, self.settings.max_attempts)
        gateway.listeners.append(self._wake)

    def _wake(self, _change: Mutation) -> None:
        # Listeners run after the audit transaction committed, so the new rows are visible now.
        self.worker.wake()

    def start(self) -> EventsRuntime:
        self.worker.start()
        return self

    def stop(self) -> None:
        if self._wake in self.gateway.listeners:
            self.gateway.listeners.remove(self._wake)
        self.worker.stop()
        if self._owned_hook is not None:
            detach(self.gateway.store, self._owned_hook)
