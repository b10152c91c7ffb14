"""Long-running operations as Vertex returns them.

Work is applied when the call arrives; the Operation can still report ``done: false`` for a
configurable number of polls so that client polling code (``GET /ui/{name}``) is exercised.
The client parses polled Operations strictly, so only real Operation fields are ever set.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from google.protobuf.message import Message

from . import protos
from .errors import ApiError, not_found


class Operations:
    def __init__(self, polls_before_done: int = 0) -> None:
        self.polls_before_done = polls_before_done
        self._ops: dict[str, Message] = {}
        self._pending: dict[str, int] = {}
        # The API version (v1 / v1beta1) an operation was started under: its packed messages
        # are typed for that version, also when polled under the version-less /ui/ prefix.
        self.api_versions: dict[str, str] = {}
        self._ids = itertools.count(random.randint(10**17, 9 * 10**17))

    def record(
        self,
        owner: str,
        metadata: Message,
        response: Message | None = None,
        error: ApiError | None = None,
    ) -> Message:
        """Create a finished operation under ``owner`` (a resource name) and return what the
        caller sees first: done, unless polls are configured."""
        op = protos.Operation(name=f"{owner}/operations/{next(self._ids)}", done=True)
        op.metadata.Pack(metadata)
        if error is not None:
            op.error.code = error.grpc_code
            op.error.message = error.message
        else:
            op.response.Pack(response if response is not None else protos.Empty())
        self._ops[op.name] = op
        self._pending[op.name] = self.polls_before_done
        return self._view(op.name)

    def get(self, name: str) -> Message:
        if name not in self._ops:
            raise not_found(f"Operation {name} is not found.")
        view = self._view(name)
        if self._pending[name] > 0:
            self._pending[name] -= 1
        return view

    def _view(self, name: str) -> Message:
        op = self._ops[name]
        if self._pending[name] <= 0:
            return op
        running = protos.Operation(name=op.name, done=False)
        running.metadata.CopyFrom(op.metadata)
        return running

    def dump(self) -> dict[str, Any]:
        return {name: protos.to_dict(op) for name, op in self._ops.items()}

    def load(self, data: dict[str, Any]) -> None:
        from google.protobuf import json_format

        for name, raw in data.items():
            op = protos.Operation()
            json_format.ParseDict(raw, op)
            self._ops[name] = op
            self._pending[name] = 0
