"""What one operation handler needs: the state, the settings, the clock and the caller.

Handlers register under their SageMaker operation name; the server looks them up, so the
list of supported operations is simply the set of registered handlers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .state import Settings, State, Store

Params = dict[str, Any]
Handler = Callable[["RequestContext", Params], Params]

HANDLERS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the SageMaker operation ``name``."""

    def register(func: Handler) -> Handler:
        HANDLERS[name] = func
        return func

    return register


@dataclass
class RequestContext:
    store: Store
    access_key: str = "anonymous"
    now: float = field(default_factory=lambda: round(time.time(), 3))
    mutated: bool = False

    @property
    def state(self) -> State:
        return self.store.state

    @property
    def settings(self) -> Settings:
        return self.store.settings

    def changed(self) -> None:
        """Mark the state dirty so the server persists it after the handler returns."""
        self.mutated = True

    def user_context(self) -> dict[str, Any]:
        """``CreatedBy``/``LastModifiedBy``: the IAM identity behind the request's access key.

        Outside SageMaker Studio, AWS reports the caller's IAM identity; the emulator has no
        IAM, so the access key id stands in for the principal (documented as inferred).
        """
        principal = self.access_key
        return {
            "IamIdentity": {
                "Arn": f"arn:{self.settings.partition}:iam::{self.settings.account_id}:user/{principal}",
                "PrincipalId": principal,
            }
        }
