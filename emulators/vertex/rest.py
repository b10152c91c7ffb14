"""The REST surface: the URL templates google-cloud-aiplatform's REST transport calls.

One catch-all route per API prefix (``/v1``, ``/v1beta1`` and ``/ui`` — the client polls
LROs under ``/ui/``), then a regex table on the percent-decoded path (``@`` arrives as
``%40``). Replies are official protobuf JSON; enums are integers when ``$alt`` asks for
``enum-encoding=int``, as every generated client does. Unknown paths answer 404 in
google.rpc.Status shape, never 5xx, because the high-level SDK retries 5xx for 120 s.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import protos
from .errors import ApiError, invalid, not_found
from .filtering import snake
from .state import EmulatorState

log = logging.getLogger("emulators.vertex")

_P = r"projects/[^/]+/locations/[^/]+"
_S = _P + r"/metadataStores/[^/:]+"
_K = r"(artifacts|executions|contexts)"
Handler = Callable[[EmulatorState, "re.Match[str]", "Query", Any], Message]


class Query:
    """Query parameters, by camelCase or snake_case name (the transport sends camelCase)."""

    def __init__(self, params: dict[str, str]) -> None:
        self._params = {snake(k): v for k, v in params.items()}

    def str(self, name: str) -> str:
        return self._params.get(name, "")

    def int(self, name: str, default: int | None = 0) -> int | None:
        raw = self._params.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise invalid(f"Invalid value for {name}: '{raw}'.") from exc

    def bool(self, name: str) -> bool:
        return self._params.get(name, "").lower() == "true"

    def mask(self) -> list[str]:
        return [snake(p.strip()) for p in self.str("update_mask").split(",") if p.strip()]


@dataclass(frozen=True)
class Rule:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    mutates: bool


def _upload(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    req = protos.from_dict(b, protos.UploadModelRequest)
    return s.models.upload(m.group(1), req)


def _update_model(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    body = dict(b or {})
    body.pop("name", None)
    return s.models.update(m.group(1), protos.from_dict(body, protos.Model), q.mask())


def _merge(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    req = protos.from_dict(b, protos.MergeVersionAliasesRequest)
    return s.models.merge_aliases(m.group(1), list(req.version_aliases))


def _kind_class(kind: str) -> type[Message]:
    return {
        "artifacts": protos.Artifact,
        "executions": protos.Execution,
        "contexts": protos.Context,
    }[kind]


def _md_create(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    kind = m.group(2)
    resource_id = q.str(
        {
            "artifacts": "artifact_id",
            "executions": "execution_id",
            "contexts": "context_id",
        }[kind]
    )
    return s.metadata.create(kind, m.group(1), resource_id, protos.from_dict(b, _kind_class(kind)))


def _md_list(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    return s.metadata.list(
        m.group(2),
        m.group(1),
        q.str("filter"),
        q.int("page_size") or 0,
        q.str("page_token"),
        q.str("order_by"),
    )


def _md_update(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    body = dict(b or {})
    body.pop("name", None)
    kind = m.group(2)
    return s.metadata.update(
        kind,
        m.group(1),
        protos.from_dict(body, _kind_class(kind)),
        q.mask(),
        q.bool("allow_missing"),
    )


def _add_events(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    req = protos.from_dict(b, protos.AddExecutionEventsRequest)
    return s.metadata.add_execution_events(m.group(1), list(req.events))


def _add_members(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    req = protos.from_dict(b, protos.AddContextArtifactsAndExecutionsRequest)
    return s.metadata.add_context_members(m.group(1), list(req.artifacts), list(req.executions))


def _unimplemented(s: EmulatorState, m: re.Match[str], q: Query, b: Any) -> Message:
    raise ApiError("UNIMPLEMENTED", f"The emulator does not implement '{m.group(0)}'.")


def _list_args(q: Query) -> tuple[str, int, str, str]:
    return (
        q.str("filter"),
        q.int("page_size") or 0,
        q.str("page_token"),
        q.str("order_by"),
    )


RULES: list[Rule] = [
    Rule(
        "GET",
        re.compile(r"^(.+/operations/[^/:]+)$"),
        lambda s, m, q, b: s.operations.get(m.group(1)),
        True,
    ),
    # ModelService
    Rule("POST", re.compile(rf"^({_P})/models:upload$"), _upload, True),
    Rule(
        "GET",
        re.compile(rf"^({_P})/models$"),
        lambda s, m, q, b: s.models.list(m.group(1), *_list_args(q)),
        False,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_P}/models/[^/:]+):listVersions$"),
        lambda s, m, q, b: s.models.list_versions(m.group(1), *_list_args(q)),
        False,
    ),
    Rule("POST", re.compile(rf"^({_P}/models/[^/:]+):mergeVersionAliases$"), _merge, True),
    Rule(
        "DELETE",
        re.compile(rf"^({_P}/models/[^/:]+):deleteVersion$"),
        lambda s, m, q, b: s.models.delete_version(m.group(1)),
        True,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_P}/models/[^/:]+)$"),
        lambda s, m, q, b: s.models.get(m.group(1)),
        False,
    ),
    Rule("PATCH", re.compile(rf"^({_P}/models/[^/:]+)$"), _update_model, True),
    Rule(
        "DELETE",
        re.compile(rf"^({_P}/models/[^/:]+)$"),
        lambda s, m, q, b: s.models.delete(m.group(1)),
        True,
    ),
    Rule("POST", re.compile(rf"^{_P}/models(/[^/:]+)?:\w+$"), _unimplemented, False),
    Rule(
        "GET",
        re.compile(rf"^{_P}/models/[^/:]+(:\w+|/evaluations.*)$"),
        _unimplemented,
        False,
    ),
    # MetadataService: stores
    Rule(
        "GET",
        re.compile(rf"^({_P})/metadataStores$"),
        lambda s, m, q, b: s.metadata.list_stores(m.group(1), q.int("page_size") or 0, q.str("page_token")),
        False,
    ),
    Rule(
        "POST",
        re.compile(rf"^({_P})/metadataStores$"),
        lambda s, m, q, b: s.metadata.create_store(
            m.group(1),
            q.str("metadata_store_id"),
            protos.from_dict(b, protos.MetadataStore),
        ),
        True,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_S})$"),
        lambda s, m, q, b: s.metadata.get_store(m.group(1)),
        False,
    ),
    # MetadataService: lineage verbs
    Rule(
        "POST",
        re.compile(rf"^({_S}/executions/[^/:]+):addExecutionEvents$"),
        _add_events,
        True,
    ),
    Rule(
        "POST",
        re.compile(rf"^({_S}/contexts/[^/:]+):addContextArtifactsAndExecutions$"),
        _add_members,
        True,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_S}/artifacts/[^/:]+):queryArtifactLineageSubgraph$"),
        lambda s, m, q, b: s.metadata.query_artifact_lineage(m.group(1), q.int("max_hops", None), q.str("filter")),
        False,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_S}/executions/[^/:]+):queryExecutionInputsAndOutputs$"),
        lambda s, m, q, b: s.metadata.query_execution_io(m.group(1)),
        False,
    ),
    Rule(
        "GET",
        re.compile(rf"^({_S}/contexts/[^/:]+):queryContextLineageSubgraph$"),
        lambda s, m, q, b: s.metadata.query_context_lineage(m.group(1)),
        False,
    ),
    # MetadataService: artifacts / executions / contexts
    Rule("POST", re.compile(rf"^({_S})/{_K}$"), _md_create, True),
    Rule("GET", re.compile(rf"^({_S})/{_K}$"), _md_list, False),
    Rule(
        "GET",
        re.compile(rf"^({_S}/{_K}/[^/:]+)$"),
        lambda s, m, q, b: s.metadata.get(m.group(2), m.group(1)),
        False,
    ),
    Rule("PATCH", re.compile(rf"^({_S}/{_K}/[^/:]+)$"), _md_update, True),
    Rule(
        "DELETE",
        re.compile(rf"^({_S}/{_K}/[^/:]+)$"),
        lambda s, m, q, b: s.metadata.delete(m.group(2), m.group(1)),
        True,
    ),
    Rule("POST", re.compile(rf"^{_S}(/\w+/[^/:]+)?:\w+$"), _unimplemented, False),
]


_V1_TYPE = "type.googleapis.com/google.cloud.aiplatform.v1."


def _retype(payload: Any, api_version: str) -> Any:
    """Re-label packed ``Any`` messages for the API version the caller speaks: a v1beta1 client
    refuses to unpack a ``google.cloud.aiplatform.v1.*`` response."""
    if isinstance(payload, dict):
        out = {k: _retype(v, api_version) for k, v in payload.items()}
        type_url = out.get("@type")
        if isinstance(type_url, str) and type_url.startswith(_V1_TYPE):
            out["@type"] = type_url.replace(".v1.", f".{api_version}.", 1)
        return out
    if isinstance(payload, list):
        return [_retype(v, api_version) for v in payload]
    return payload


def _error_response(err: ApiError) -> Response:
    return JSONResponse(err.rest_body(), status_code=err.http_status)


def create_app(state: EmulatorState) -> Starlette:
    """A Starlette app serving ModelService + MetadataService + Operations over REST."""

    async def dispatch(request: Request) -> Response:
        path = request.path_params["path"]
        if request.path_params["prefix"] not in ("v1", "v1beta1", "ui"):
            return await not_found_route(request)
        query = Query(dict(request.query_params))
        int_enums = "enum-encoding=int" in request.query_params.get("$alt", "")
        try:
            raw = await request.body()
            try:
                body = json.loads(raw) if raw.strip() else None
            except json.JSONDecodeError as exc:
                raise invalid(f"Invalid JSON payload received. {exc}") from exc
            for rule in RULES:
                if rule.method != request.method:
                    continue
                match = rule.pattern.match(path)
                if match is None:
                    continue
                result = rule.handler(state, match, query, body)
                if rule.mutates and request.method != "GET":  # polling changes no stored state
                    state.save()
                payload = protos.to_dict(result, int_enums=int_enums)
                api_version = request.path_params["prefix"]
                if isinstance(result, protos.Operation):
                    if api_version != "ui":
                        state.operations.api_versions.setdefault(result.name, api_version)
                    api_version = state.operations.api_versions.get(result.name, "v1")
                if api_version == "v1beta1":
                    payload = _retype(payload, "v1beta1")
                return JSONResponse(payload)
            raise not_found(f"The requested URL /{request.path_params['prefix']}/{path} was not found.")
        except ApiError as err:
            return _error_response(err)
        except Exception as exc:  # every failure still answers in Status shape
            log.exception("internal error on %s %s", request.method, request.url.path)
            return _error_response(ApiError("INTERNAL", f"Internal error: {exc}"))

    async def not_found_route(request: Request) -> Response:
        return _error_response(not_found(f"The requested URL {request.url.path} was not found."))

    routes = [
        Route(
            "/{prefix:str}/{path:path}",
            dispatch,
            methods=["GET", "POST", "PATCH", "DELETE", "PUT"],
        ),
        Route(
            "/{path:path}",
            not_found_route,
            methods=["GET", "POST", "PATCH", "DELETE", "PUT"],
        ),
    ]
    return Starlette(routes=routes)
