"""The official Vertex AI protobuf classes, and JSON the way the REST transport speaks it.

Storing google-cloud-aiplatform's own message classes (rather than hand-written dicts) makes
field names, int64-as-string, RFC 3339 timestamps and ``Any`` packing exactly what the
client parses. Importing them costs ~0.6 s once, at emulator start.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from google.cloud.aiplatform_v1 import types as _t
from google.longrunning import operations_pb2
from google.protobuf import empty_pb2, field_mask_pb2, json_format, timestamp_pb2
from google.protobuf.message import Message

from .errors import invalid

M = TypeVar("M", bound=Message)

Model = _t.Model.pb()
UploadModelRequest = _t.UploadModelRequest.pb()
UploadModelResponse = _t.UploadModelResponse.pb()
UploadModelOperationMetadata = _t.UploadModelOperationMetadata.pb()
DeleteOperationMetadata = _t.DeleteOperationMetadata.pb()
CreateMetadataStoreOperationMetadata = _t.CreateMetadataStoreOperationMetadata.pb()
ListModelsResponse = _t.ListModelsResponse.pb()
ListModelVersionsResponse = _t.ListModelVersionsResponse.pb()
MergeVersionAliasesRequest = _t.MergeVersionAliasesRequest.pb()
ModelSourceInfo = _t.ModelSourceInfo.pb()
MetadataStore = _t.MetadataStore.pb()
ListMetadataStoresResponse = _t.ListMetadataStoresResponse.pb()
Artifact = _t.Artifact.pb()
Execution = _t.Execution.pb()
Context = _t.Context.pb()
Event = _t.Event.pb()
LineageSubgraph = _t.LineageSubgraph.pb()
ListArtifactsResponse = _t.ListArtifactsResponse.pb()
ListExecutionsResponse = _t.ListExecutionsResponse.pb()
ListContextsResponse = _t.ListContextsResponse.pb()
AddExecutionEventsRequest = _t.AddExecutionEventsRequest.pb()
AddExecutionEventsResponse = _t.AddExecutionEventsResponse.pb()
AddContextArtifactsAndExecutionsRequest = _t.AddContextArtifactsAndExecutionsRequest.pb()
AddContextArtifactsAndExecutionsResponse = _t.AddContextArtifactsAndExecutionsResponse.pb()
Operation = operations_pb2.Operation
Empty = empty_pb2.Empty
FieldMask = field_mask_pb2.FieldMask
Timestamp = timestamp_pb2.Timestamp


def now() -> Timestamp:
    ts = Timestamp()
    ts.GetCurrentTime()
    return ts


def new_numeric_id() -> str:
    """Server-assigned IDs on Vertex are long decimal numbers."""
    return str(random.randint(10**18, 9 * 10**18))


def to_dict(msg: Message, int_enums: bool = True) -> dict[str, Any]:
    return json_format.MessageToDict(msg, use_integers_for_enums=int_enums)


def from_dict(data: Any, cls: type[M]) -> M:
    """Parse a request body strictly: Vertex answers an unknown field with INVALID_ARGUMENT."""
    msg = cls()
    if data is None:
        return msg
    if not isinstance(data, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    try:
        json_format.ParseDict(data, msg, ignore_unknown_fields=False)
    except json_format.ParseError as exc:
        raise invalid(f"Invalid JSON payload received. {exc}") from exc
    return msg


def copy(msg: M) -> M:
    out = type(msg)()
    out.CopyFrom(msg)
    return out


def enum_name(msg: Message, field: str) -> str:
    fd = msg.DESCRIPTOR.fields_by_name[field]
    value = getattr(msg, field)
    ev = fd.enum_type.values_by_number.get(value)
    return ev.name if ev else str(value)
