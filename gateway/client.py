"""A typed Python client for the gateway's REST API (sync, over httpx).

    from gateway.client import MrgClient

    with MrgClient("http://127.0.0.1:8080", api_key=os.environ["MRG_API_KEY"]) as mrg:
        mrg.create_model("local", "fraud", tags={"team": "risk"})
        v = mrg.create_version("local", "fraud", {"description": "first"}, files={"model.pkl": Path("model.pkl")})
        mrg.set_alias("local", "fraud", "champion", v.version)
        for model in mrg.search_models(q="fraud").items: ...

Results are the common-schema models (``mapping.schema``) and the API bodies
(``gateway.api.bodies``); failures raise the same error taxonomy the adapters use
(``mapping.errors``: NotFound, InvalidInput, PermissionDenied, RateLimited, ...), built from the
gateway's JSON error body, with ``retry_after`` from the ``Retry-After`` header. 429 answers
are retried after ``Retry-After`` for every method (the request was not processed); 503 only
for idempotent methods, so a create is never sent twice by the client.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from gateway.api.bodies import AuditEntry, AuditPage, ModelPage, RegistryInfo, RegistryList, SearchPage, VersionPage
from gateway.api.governance import HistoryPage, KeyCreated, KeyInfo
from gateway.api.migrations import MigrationStatus
from gateway.api.pilots import PilotStatus
from gateway.events.schema import (
    Delivery,
    DeliveryPage,
    EventTypeInfo,
    EventTypeList,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
)
from gateway.governance.approvals import ApprovalRequestView
from gateway.governance.promotion import PointerMove
from gateway.lineage import LineageGraph
from gateway.migration.plan import MigrationPlan
from mapping.errors import BY_KIND, ErrorKind, RegistryError, Unavailable
from mapping.schema import (
    ApprovalStatus,
    ArtifactFile,
    Model,
    ModelVersion,
    Stage,
    VersionPatch,
    VersionSpec,
)

M = TypeVar("M", bound=BaseModel)
FileSource = bytes | str | Path | IO[bytes]
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DOWNLOAD_CHUNK = 1024 * 1024


class GatewayInternalError(RegistryError):
    """The gateway answered 500: a bug on the server; ``details['request_id']`` finds it in its log."""

    http_status = 500


class MrgClient:
    """One gateway; thread-safe like the ``httpx.Client`` underneath. Close it, or use ``with``."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 3,
        max_retry_wait: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"user-agent": "mrg-client/1"}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep

    # -- plumbing -----------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MrgClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request (retrying throttling as documented above); raise the taxonomy on errors."""
        attempt = 0
        while True:
            response = self._http.request(method, path, **kwargs)
            if response.is_success:
                return response
            error = error_from_response(response)
            if not self._should_retry(method, response.status_code, attempt, kwargs):
                raise error
            attempt += 1
            self._sleep(self._wait(error, attempt))

    def _should_retry(self, method: str, status: int, attempt: int, kwargs: dict[str, Any]) -> bool:
        if attempt >= self.max_retries or kwargs.get("files"):  # an upload's streams are consumed
            return False
        return status == 429 or (status == 503 and method.upper() in IDEMPOTENT)

    def _wait(self, error: RegistryError, attempt: int) -> float:
        if error.retry_after is not None:
            return min(error.retry_after, self.max_retry_wait)
        return min(self.max_retry_wait, 0.5 * 2 ** (attempt - 1) * random.uniform(0.5, 1.0))

    def _get(self, path: str, model: type[M], params: Any = None) -> M:
        return model.model_validate(self.request("GET", path, params=params).json())

    def _send(self, method: str, path: str, model: type[M], body: Any = None, params: Any = None) -> M:
        return model.model_validate(self.request(method, path, json=body, params=params).json())

    # -- registries and catalog -----------------------------------------------------------------------
    def registries(self, health: bool = True) -> list[RegistryInfo]:
        return self._get("/v1/registries", RegistryList, {"health": health}).items

    def registry(self, name: str, health: bool = True) -> RegistryInfo:
        return self._get(f"/v1/registries/{_seg(name)}", RegistryInfo, {"health": health})

    def search_models(self, q: str | None = None, *, registries: list[str] | None = None,
                      tags: Mapping[str, str] | None = None, prefix: str | None = None, limit: int = 100,
                      cursor: str | None = None, deadline: float | None = None) -> SearchPage:
        """Federated search; ``partial`` and ``errors`` say which registries did not answer."""
        params: dict[str, Any] = {"limit": limit}
        for key, value in (("q", q), ("prefix", prefix), ("cursor", cursor), ("deadline", deadline)):
            if value is not None:
                params[key] = value
        if registries:
            params["registry"] = list(registries)
        if tags:
            params["tag"] = [f"{k}={v}" for k, v in tags.items()]
        return self._get("/v1/models", SearchPage, params)

    def iter_search(self, q: str | None = None, **filters: Any) -> Iterator[Model]:
        cursor = None
        while True:
            page = self.search_models(q, cursor=cursor, **filters)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # -- models ---------------------------------------------------------------------------------------
    def list_models(self, registry: str, *, prefix: str | None = None, page_size: int | None = None,
                    page_token: str | None = None) -> ModelPage:
        params = {k: v for k, v in (("prefix", prefix), ("page_size", page_size), ("page_token", page_token)) if v is not None}
        return self._get(f"/v1/registries/{_seg(registry)}/models", ModelPage, params)

    def iter_models(self, registry: str, *, prefix: str | None = None) -> Iterator[Model]:
        token = None
        while True:
            page = self.list_models(registry, prefix=prefix, page_token=token)
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def get_model(self, registry: str, name: str) -> Model:
        return self._get(_model_path(registry, name), Model)

    def create_model(self, registry: str, name: str, *, description: str | None = None,
                     tags: Mapping[str, str] | None = None) -> Model:
        body = {"name": name, "description": description, "tags": dict(tags or {})}
        return self._send("POST", f"/v1/registries/{_seg(registry)}/models", Model, body)

    def update_model(self, registry: str, name: str, *, description: str | None = None,
                     tags: Mapping[str, str] | None = None, remove_tags: list[str] | None = None) -> Model:
        body = {"description": description, "tags": dict(tags) if tags is not None else None,
                "remove_tags": list(remove_tags or [])}
        return self._send("PATCH", _model_path(registry, name), Model, body)

    def delete_model(self, registry: str, name: str) -> None:
        self.request("DELETE", _model_path(registry, name))

    # -- versions -------------------------------------------------------------------------------------
    def list_versions(self, registry: str, model: str, *, page_size: int | None = None,
                      page_token: str | None = None) -> VersionPage:
        params = {k: v for k, v in (("page_size", page_size), ("page_token", page_token)) if v is not None}
        return self._get(_model_path(registry, model) + "/versions", VersionPage, params)

    def iter_versions(self, registry: str, model: str) -> Iterator[ModelVersion]:
        token = None
        while True:
            page = self.list_versions(registry, model, page_token=token)
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def get_version(self, registry: str, model: str, version: str) -> ModelVersion:
        return self._get(_version_path(registry, model, version), ModelVersion)

    def create_version(self, registry: str, model: str, spec: VersionSpec | Mapping[str, Any] | None = None,
                       files: Mapping[str, FileSource] | None = None) -> ModelVersion:
        """Register a version, with its files in the same call (multipart; keys are artifact paths).

        A file is bytes, a path on disk or an open binary file; it is streamed, not read into memory.
        """
        spec_model = spec if isinstance(spec, VersionSpec) else VersionSpec.model_validate(dict(spec or {}))
        spec_json = spec_model.model_dump_json(exclude_defaults=True)
        path = _model_path(registry, model) + "/versions"
        if not files:
            response = self.request("POST", path, content=spec_json, headers={"content-type": "application/json"})
            return ModelVersion.model_validate(response.json())
        with _opened(files) as parts:
            response = self.request("POST", path, data={"spec": spec_json}, files=parts)
        return ModelVersion.model_validate(response.json())

    def update_version(self, registry: str, model: str, version: str,
                       patch: VersionPatch | Mapping[str, Any]) -> ModelVersion:
        body = patch if isinstance(patch, VersionPatch) else VersionPatch.model_validate(dict(patch))
        return self._send("PATCH", _version_path(registry, model, version), ModelVersion,
                          body.model_dump(mode="json", exclude_unset=True))

    def delete_version(self, registry: str, model: str, version: str) -> None:
        self.request("DELETE", _version_path(registry, model, version))

    # -- aliases, approval, stage -----------------------------------------------------------------------
    def set_alias(self, registry: str, model: str, alias: str, version: str) -> Model:
        return self._send("PUT", f"{_model_path(registry, model)}/aliases/{_seg(alias)}", Model, {"version": version})

    def delete_alias(self, registry: str, model: str, alias: str) -> Model:
        return self._send("DELETE", f"{_model_path(registry, model)}/aliases/{_seg(alias)}", Model)

    def set_approval(self, registry: str, model: str, version: str, status: ApprovalStatus | str,
                     comment: str | None = None) -> ModelVersion:
        """The approver recorded is the caller (the API key's name), not a field anyone can set."""
        body = {"status": ApprovalStatus(status).value, "comment": comment}
        return self._send("PUT", _version_path(registry, model, version) + "/approval", ModelVersion, body)

    def set_stage(self, registry: str, model: str, version: str, stage: Stage | str) -> ModelVersion:
        return self._send("PUT", _version_path(registry, model, version) + "/stage", ModelVersion,
                          {"stage": Stage(stage).value})

    # -- artifacts ------------------------------------------------------------------------------------
    def list_artifacts(self, registry: str, model: str, version: str) -> list[ArtifactFile]:
        response = self.request("GET", _version_path(registry, model, version) + "/artifacts")
        return TypeAdapter(list[ArtifactFile]).validate_python(response.json())

    @contextmanager
    def open_artifact(self, registry: str, model: str, version: str, path: str,
                      chunk_size: int = DOWNLOAD_CHUNK) -> Iterator[Iterator[bytes]]:
        """Stream one file: ``with mrg.open_artifact(...) as chunks: for block in chunks: ...``."""
        url = f"{_version_path(registry, model, version)}/artifacts/{quote(path, safe='/')}"
        with self._http.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                raise error_from_response(response)
            yield response.iter_bytes(chunk_size)

    def download_artifact(self, registry: str, model: str, version: str, path: str, dest: str | Path) -> Path:
        """Write one file to ``dest`` (a file path) without holding it in memory."""
        target = Path(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.open_artifact(registry, model, version, path) as chunks, target.open("wb") as out:
            for block in chunks:
                out.write(block)
        return target

    # -- migrations -----------------------------------------------------------------------------------
    def plan_migration(self, source: str, target: str, **options: Any) -> MigrationPlan:
        """A dry run: what would be copied, and where each field would land (writes nothing)."""
        body = {"source": source, "target": target, **options}
        return self._send("POST", "/v1/migrations", MigrationPlan, body, params={"dry_run": True})

    def start_migration(self, source: str, target: str, **options: Any) -> MigrationStatus:
        """Start a job (admin); returns its status at once. Follow it with :meth:`wait_migration`."""
        return self._send("POST", "/v1/migrations", MigrationStatus, {"source": source, "target": target, **options})

    def migration(self, job_id: str) -> MigrationStatus:
        return self._get(f"/v1/migrations/{_seg(job_id)}", MigrationStatus)

    def wait_migration(self, job_id: str, timeout: float = 3600.0, poll: float = 1.0) -> MigrationStatus:
        deadline = time.monotonic() + timeout
        while True:
            status = self.migration(job_id)
            if status.state in ("succeeded", "failed"):
                return status
            if time.monotonic() > deadline:
                raise Unavailable(f"migration {job_id}: still {status.state} after {timeout:g}s")
            self._sleep(poll)

    def verify_migration(self, job_id: str) -> dict[str, Any]:
        return self.request("POST", f"/v1/migrations/{_seg(job_id)}/verify").json()  # type: ignore[no-any-return]

    # -- webhooks ---------------------------------------------------------------------------------------
    def create_webhook(self, url: str, *, event_types: list[str] | None = None, registry: str = "*",
                       model: str = "*", description: str | None = None) -> WebhookCreated:
        """The result's ``secret`` is shown only here: keep it where the receiver can read it."""
        body = WebhookCreate(url=url, event_types=list(event_types or []), registry=registry, model=model,
                             description=description)
        return self._send("POST", "/v1/webhooks", WebhookCreated, body.model_dump())

    def list_webhooks(self) -> list[Webhook]:
        return self._get("/v1/webhooks", WebhookList).items

    def get_webhook(self, webhook_id: str) -> Webhook:
        return self._get(f"/v1/webhooks/{_seg(webhook_id)}", Webhook)

    def rotate_webhook_secret(self, webhook_id: str, *, overlap_s: int = 86400) -> WebhookCreated:
        """A new secret, shown only here; the old one keeps signing too for ``overlap_s`` seconds."""
        return self._send("POST", f"/v1/webhooks/{_seg(webhook_id)}/rotate-secret", WebhookCreated,
                          params={"overlap_s": overlap_s})

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/v1/webhooks/{_seg(webhook_id)}")

    def webhook_deliveries(self, webhook_id: str, *, state: str | None = None, limit: int = 50) -> list[Delivery]:
        params: dict[str, Any] = {"limit": limit} | ({"state": state} if state else {})
        return self._get(f"/v1/webhooks/{_seg(webhook_id)}/deliveries", DeliveryPage, params).items

    def retry_delivery(self, webhook_id: str, delivery_id: str) -> Delivery:
        return self._send("POST", f"/v1/webhooks/{_seg(webhook_id)}/deliveries/{_seg(delivery_id)}/retry", Delivery)

    def test_webhook(self, webhook_id: str) -> Delivery:
        return self._send("POST", f"/v1/webhooks/{_seg(webhook_id)}/test", Delivery)

    def event_types(self) -> list[EventTypeInfo]:
        return self._get("/v1/webhooks/event-types", EventTypeList).items

    # -- governance: approvals, promote / rollback, history, keys ------------------------------------
    def request_approval(self, registry: str, model: str, version: str, comment: str | None = None) -> ApprovalRequestView:
        """Open an approval request under the model's policy; the version becomes PENDING."""
        return self._send("POST", _version_path(registry, model, version) + "/approval-requests", ApprovalRequestView,
                          {"comment": comment})

    def approval_requests(self, *, registry: str | None = None, model: str | None = None,
                          status: ApprovalStatus | str | None = None, limit: int = 100) -> list[ApprovalRequestView]:
        params = {k: v for k, v in {"registry": registry, "model": model, "limit": limit,
                                    "status": ApprovalStatus(status).value if status else None}.items() if v is not None}
        return TypeAdapter(list[ApprovalRequestView]).validate_python(
            self.request("GET", "/v1/approval-requests", params=params).json()["items"])

    def approve(self, request_id: str, comment: str | None = None) -> ApprovalRequestView:
        """Vote to approve (four-eyes: a request you opened yourself is refused)."""
        return self._send("POST", f"/v1/approval-requests/{_seg(request_id)}/approve", ApprovalRequestView,
                          {"comment": comment})

    def reject(self, request_id: str, comment: str | None = None) -> ApprovalRequestView:
        return self._send("POST", f"/v1/approval-requests/{_seg(request_id)}/reject", ApprovalRequestView,
                          {"comment": comment})

    def promote(self, registry: str, model: str, version: str, *, alias: str | None = None,
                stage: Stage | str | None = None) -> PointerMove:
        """Move an alias or a stage to ``version``; the previous holder is remembered for rollback."""
        body: dict[str, Any] = {"version": version}
        body.update({"alias": alias} if alias is not None else {"stage": Stage(stage).value if stage else None})
        return self._send("POST", _model_path(registry, model) + "/promote", PointerMove, body)

    def rollback(self, registry: str, model: str, *, alias: str | None = None,
                 stage: Stage | str | None = None) -> PointerMove:
        body = {"alias": alias} if alias is not None else {"stage": Stage(stage).value if stage else None}
        return self._send("POST", _model_path(registry, model) + "/rollback", PointerMove, body)

    def history(self, registry: str, *, model: str | None = None, alias: str | None = None,
                stage: Stage | str | None = None, at: str | None = None) -> HistoryPage:
        """Who moved which alias or stage when; with ``alias``/``stage`` and ``at``, who held it then."""
        params = {k: v for k, v in {"model": model, "alias": alias, "at": at,
                                    "stage": Stage(stage).value if stage else None}.items() if v is not None}
        return self._get(f"/v1/registries/{_seg(registry)}/history", HistoryPage, params)

    def lineage(self, registry: str, model: str, version: str, *, depth: int = 3,
                direction: str = "both") -> LineageGraph:
        return self._get(_version_path(registry, model, version) + "/lineage", LineageGraph,
                         {"depth": depth, "direction": direction})

    def create_key(self, name: str, role: str, *, registry: str = "*", model: str = "*") -> KeyCreated:
        """A new API key (admin); its clear value is in the result once and nowhere else."""
        return self._send("POST", "/v1/keys", KeyCreated, {"name": name, "role": role, "registry": registry,
                                                           "model": model})

    def revoke_key(self, key_id: str) -> KeyInfo:
        return self._send("DELETE", f"/v1/keys/{_seg(key_id)}", KeyInfo)

    # -- pilots -----------------------------------------------------------------------------------------
    def start_pilot(self, registries: list[str], *, repeat: int = 1, scenario: str = "standard") -> PilotStatus:
        return self._send("POST", "/v1/pilots", PilotStatus, {"registries": registries, "repeat": repeat,
                                                               "scenario": scenario})

    def pilot(self, pilot_id: str) -> PilotStatus:
        return self._get(f"/v1/pilots/{_seg(pilot_id)}", PilotStatus)

    # -- audit ----------------------------------------------------------------------------------------
    def audit(self, *, after_id: int = 0, limit: int = 100) -> list[AuditEntry]:
        return self._get("/v1/audit", AuditPage, {"after_id": after_id, "limit": limit}).items

    def iter_audit(self, after_id: int = 0, page: int = 500) -> Iterator[AuditEntry]:
        while True:
            items = self.audit(after_id=after_id, limit=page)
            yield from items
            if len(items) < page:
                return
            after_id = items[-1].id


def error_from_response(response: httpx.Response) -> RegistryError:
    """The taxonomy error for an error answer: from the gateway's JSON body (``{"error": {kind, ...}}``)
    when there is one, else from the status code (a proxy's 502 page is still ``Unavailable``)."""
    try:
        payload = response.json()["error"]
        kind, message = str(payload["kind"]), str(payload["message"])
    except (ValueError, KeyError, TypeError):
        payload, kind, message = {}, "", response.text[:500].strip() or response.reason_phrase
    details = dict(payload.get("details") or {})
    cls = _class_for(kind, response.status_code)
    return cls(message, registry=payload.get("registry"), retry_after=_retry_after(response.headers.get("retry-after")),
               details=details, field=details.get("field"), native_code=details.get("native_code"))


def _class_for(kind: str, status: int) -> type[RegistryError]:
    if kind in {k.value for k in ErrorKind}:
        return BY_KIND[ErrorKind(kind)]
    if kind == "internal" or status == 500:
        return GatewayInternalError
    by_status: dict[int, ErrorKind] = {
        400: ErrorKind.INVALID_INPUT, 401: ErrorKind.PERMISSION_DENIED, 403: ErrorKind.PERMISSION_DENIED,
        404: ErrorKind.NOT_FOUND, 409: ErrorKind.CONFLICT, 422: ErrorKind.UNSUPPORTED, 429: ErrorKind.RATE_LIMITED,
        502: ErrorKind.UNAVAILABLE, 503: ErrorKind.UNAVAILABLE, 504: ErrorKind.UNAVAILABLE,
    }
    if status in by_status:
        return BY_KIND[by_status[status]]
    return GatewayInternalError if status >= 500 else BY_KIND[ErrorKind.INVALID_INPUT]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from gateway.events.delivery import parse_retry_after

        return parse_retry_after(value)


def _seg(value: str) -> str:
    return quote(value, safe="")


def _model_path(registry: str, model: str) -> str:
    # Model names may contain '/' (Hugging Face owner/name): the API takes them as a path.
    return f"/v1/registries/{_seg(registry)}/models/{quote(model, safe='/')}"


def _version_path(registry: str, model: str, version: str) -> str:
    return f"{_model_path(registry, model)}/versions/{_seg(version)}"


@contextmanager
def _opened(files: Mapping[str, FileSource]) -> Iterator[list[tuple[str, tuple[str, Any, str]]]]:
    """Multipart parts named by artifact path; files on disk are opened for streaming, then closed."""
    with ExitStack() as stack:
        parts: list[tuple[str, tuple[str, Any, str]]] = []
        for name, source in files.items():
            content: Any = stack.enter_context(Path(source).open("rb")) if isinstance(source, str | Path) else source
            parts.append(("files", (name, content, "application/octet-stream")))
        yield parts


__all__ = ["GatewayInternalError", "MrgClient", "error_from_response"]
