"""Azure ML backend over ``azure.ai.ml.MLClient`` (workspace and registry forms).

What goes through which door, and why:

* **Version creation with artifacts** goes through ``MLClient.models.create_or_update``: it owns
  the intricate part (datastore secrets or registry ``tempdatarefs``, SAS, content-hash layout,
  the registry LRO), so versions the gateway writes look exactly like ones a user uploads with the
  SDK, and ``ml_client.models.download`` reads them back. Uploads are first streamed to a
  temporary folder while hashing, so a checksum mismatch fails before anything is registered.
* **Reads and metadata updates** go to the same documented REST endpoints through an azure-core
  pipeline with the same credential: the SDK's ``Model`` entity drops ``isArchived`` and
  ``jobName``, its update path always sends ``isArchived: false`` (so editing an archived version
  would restore it), and it has no model-container update or delete at all.
* **Artifact reads** stream with azure-storage-blob from the datastore (workspace) or a ``datarefs``
  SAS (registry), in chunks, never whole.

azure-ai-ml keeps its cloud choice in process-wide state (``AZUREML_CURRENT_CLOUD``, a cloud table
that never lets a name be re-registered) and its internal blob client trusts only
``REQUESTS_CA_BUNDLE``. Every MLClient call therefore runs under one process-wide lock with this
adapter's values set and the previous ones restored, and a custom cloud is registered under a name
derived from its metadata, so two adapters for two clouds in one process both work.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from adapters.base import (
    DEFAULT_CHUNK,
    ArtifactUpload,
    Capabilities,
    HashingReader,
    Health,
    RegistryAdapter,
    StagedVersion,
    verify_digest,
)
from mapping import azureml as am
from mapping import envelope
from mapping.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryError,
    Unavailable,
    Unsupported,
)
from mapping.schema import (
    Approval,
    ArtifactFile,
    Model,
    ModelQuery,
    ModelVersion,
    Page,
    RegistryKind,
    Stage,
    VersionPatch,
    VersionSpec,
)

WORKSPACE_API = "2023-08-01-preview"
DATASTORE_API = "2024-10-01-preview"
REGISTRY_API = "2021-10-01-dataplanepreview"
PROVIDER = "Microsoft.MachineLearningServices"
_PROCESS_LOCK = threading.RLock()  # guards azure-ai-ml's process-wide cloud and CA settings


def _import_sdk() -> None:
    """Import azure-ai-ml with no current cloud set.

    Some of its classes read the current cloud's endpoints while the module is imported; with
    ``AZUREML_CURRENT_CLOUD`` naming a cloud that process never registered (inherited from a
    parent that used another emulator, say) the import itself fails. Built-in defaults are
    enough at import time: every call then runs inside ``_process_settings``.
    """
    if "azure.ai.ml.entities" in sys.modules:
        return
    with _PROCESS_LOCK:
        saved = os.environ.pop("AZUREML_CURRENT_CLOUD", None)
        try:
            import azure.ai.ml  # noqa: F401
            import azure.ai.ml.entities  # noqa: F401
        finally:
            if saved is not None:
                os.environ["AZUREML_CURRENT_CLOUD"] = saved
_PROCESS_ENV = ("AZUREML_CURRENT_CLOUD", "REQUESTS_CA_BUNDLE")
_SECRET_TTL = 30 * 60


class AzureMLSettings(BaseModel):
    """Workspace form: ``subscription_id`` + ``resource_group`` + ``workspace_name``; registry form:
    ``registry_name``. ``cloud_metadata`` (the six keys MLClient takes) points at a custom cloud
    such as the emulator; ``credential: offline`` is for the emulator only."""

    model_config = ConfigDict(extra="forbid")

    subscription_id: str | None = None
    resource_group: str | None = None
    workspace_name: str | None = None
    registry_name: str | None = None
    cloud: str = "AzureCloud"
    cloud_metadata: dict[str, str] | None = None
    credential: Literal["default", "offline"] = "default"
    ca_bundle: str | None = None
    resolve_localhost: bool = False
    timeout: float = 60.0

    @classmethod
    def from_emulator(cls, info: Mapping[str, Any], *, registry: bool = False) -> AzureMLSettings:
        """Settings for ``emulators.azureml`` from its announcement line (tests and ``mrg sandbox``)."""
        common: dict[str, Any] = {
            "cloud": info["cloud"], "cloud_metadata": info["cloud_metadata"], "credential": "offline",
            "ca_bundle": info["ca_bundle"], "resolve_localhost": True,
        }
        if registry:
            return cls(**common, registry_name=info["registry_name"])
        return cls(**common, subscription_id=info["subscription_id"], resource_group=info["resource_group"],
                   workspace_name=info["workspace_name"])

    @model_validator(mode="after")
    def _one_form(self) -> AzureMLSettings:
        workspace = all((self.subscription_id, self.resource_group, self.workspace_name))
        if workspace == bool(self.registry_name):
            raise ValueError("give either subscription_id + resource_group + workspace_name, or registry_name")
        if self.cloud_metadata is not None:
            missing = [k for k in am.CLOUD_METADATA_KEYS if k not in self.cloud_metadata]
            if missing:
                raise ValueError(f"cloud_metadata lacks {missing}")
        elif self.cloud not in am.RESOURCE_MANAGER:
            raise ValueError(f"cloud {self.cloud!r} is not built in: give cloud_metadata")
        return self


class _Rest:
    """The documented Azure ML REST API over an azure-core pipeline (bearer auth, retries off:
    retrying is the gateway's job)."""

    def __init__(self, credential: Any, scope: str, verify: str | bool, timeout: float) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline import policies
        from azure.core.pipeline.transport import RequestsTransport

        self._client: Any = PipelineClient(
            base_url="",
            policies=[
                policies.RequestIdPolicy(),
                policies.HeadersPolicy({"Accept": "application/json"}),
                policies.UserAgentPolicy("mrg-gateway"),
                policies.RetryPolicy(retry_total=0),
                policies.BearerTokenCredentialPolicy(credential, scope),
                policies.NetworkTraceLoggingPolicy(),
            ],
            transport=RequestsTransport(connection_verify=verify, connection_timeout=timeout, read_timeout=timeout),
        )

    def call(self, method: str, url: str, api_version: str, body: Any = None, **params: Any) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        request = HttpRequest(method, url, params={"api-version": api_version, **params}, json=body)
        response = self._client.send_request(request)
        if response.status_code >= 400:
            cls = {404: ResourceNotFoundError, 409: ResourceExistsError}.get(response.status_code, HttpResponseError)
            raise cls(response=response)
        if response.status_code == 204 or not response.content:
            return {"_status": response.status_code}
        data = response.json()
        if isinstance(data, dict):
            data.setdefault("_status", response.status_code)
        return data




class AzureMLAdapter(RegistryAdapter):
    kind = RegistryKind.AZUREML
    settings_model = AzureMLSettings

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        try:
            self.config = AzureMLSettings.model_validate(self.settings)
        except ValueError as exc:
            raise InvalidInput(f"settings: {exc}", registry=name, field="settings") from exc
        cfg = self.config
        if cfg.cloud_metadata is not None:
            digest = hashlib.sha256(json.dumps(cfg.cloud_metadata, sort_keys=True).encode()).hexdigest()[:10]
            self._cloud_name = f"{cfg.cloud}-mrg-{digest}"
            self._endpoints = dict(cfg.cloud_metadata)
        else:
            self._cloud_name = cfg.cloud
            self._endpoints = {
                "resource_manager": am.RESOURCE_MANAGER[cfg.cloud],
                "storage_endpoint": am.STORAGE_SUFFIX[cfg.cloud],
                "registry_discovery_endpoint": am.REGISTRY_DISCOVERY[cfg.cloud],
            }
        self._credential: Any = None
        self._ml: Any = None
        self._rest_client: _Rest | None = None
        self._base: str | None = None
        self._secrets: dict[str, tuple[float, Any]] = {}
        self._lock = threading.RLock()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def _is_registry(self) -> bool:
        return bool(self.config.registry_name)

    @property
    def _api(self) -> str:
        return REGISTRY_API if self._is_registry else WORKSPACE_API

    @property
    def _verify(self) -> str | bool:
        return self.config.ca_bundle or True

    def _cred(self) -> Any:
        if self._credential is None:
            # The emulator's own client helpers (standard library only): the same offline token and
            # *.localhost resolution a user's process uses to drive it.
            from emulators.azureml.client import OfflineCredential, enable_localhost_resolution

            if self.config.resolve_localhost:
                enable_localhost_resolution()
            if self.config.credential == "offline":
                self._credential = OfflineCredential("mrg-gateway")
            else:
                from azure.identity import DefaultAzureCredential

                self._credential = DefaultAzureCredential()
        return self._credential

    @contextmanager
    def _process_settings(self) -> Iterator[None]:
        """azure-ai-ml reads the cloud and CA bundle from process-wide state: set ours, then restore."""
        with _PROCESS_LOCK:
            saved = {key: os.environ.get(key) for key in _PROCESS_ENV}
            os.environ["AZUREML_CURRENT_CLOUD"] = self._cloud_name
            if self.config.ca_bundle:
                os.environ["REQUESTS_CA_BUNDLE"] = self.config.ca_bundle
            try:
                yield
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

    @property
    def ml_client(self) -> Any:
        """The MLClient (built on first use: the registry form calls discovery in its constructor)."""
        with self._lock:
            if self._ml is None:
                _import_sdk()
                from azure.ai.ml import MLClient

                kwargs: dict[str, Any] = {"cloud": self._cloud_name, "show_progress": False}
                if self.config.cloud_metadata is not None:
                    kwargs["cloud_metadata"] = self.config.cloud_metadata
                with self._process_settings():
                    if self._is_registry:
                        self._ml = MLClient(self._cred(), registry_name=self.config.registry_name, **kwargs)
                    else:
                        self._ml = MLClient(
                            self._cred(), self.config.subscription_id, self.config.resource_group,
                            self.config.workspace_name, **kwargs,
                        )
            return self._ml

    @property
    def _rest(self) -> _Rest:
        with self._lock:
            if self._rest_client is None:
                scope = self._endpoints["resource_manager"].rstrip("/") + "/.default"
                self._rest_client = _Rest(self._cred(), scope, self._verify, self.config.timeout)
            return self._rest_client

    @property
    def base(self) -> str:
        """The REST prefix of the workspace, or of the registry on its data plane (via discovery)."""
        with self._lock:
            if self._base is None:
                cfg = self.config
                if self._is_registry:
                    discovery = self._endpoints["registry_discovery_endpoint"].rstrip("/")
                    found = self._rest.call(
                        "GET", f"{discovery}/registrymanagement/v1.0/registries/{cfg.registry_name}/discovery", "v1.0"
                    )
                    self._base = (
                        f"{found['primaryRegionResourceProviderUri'].rstrip('/')}/mferp/managementfrontend/subscriptions/"
                        f"{found['subscriptionId']}/resourceGroups/{found['resourceGroup']}/providers/{PROVIDER}/"
                        f"registries/{cfg.registry_name}"
                    )
                else:
                    rm = self._endpoints["resource_manager"].rstrip("/")
                    self._base = (
                        f"{rm}/subscriptions/{cfg.subscription_id}/resourceGroups/{cfg.resource_group}/providers/"
                        f"{PROVIDER}/workspaces/{cfg.workspace_name}"
                    )
            return self._base


    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        """Azure exceptions -> taxonomy, explicitly by type, then status, then service code."""
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        ctx: dict[str, Any] = {"registry": self.name, "operation": operation}
        if isinstance(exc, HttpResponseError):
            status = exc.status_code or 0
            code = (getattr(exc.error, "code", None) if exc.error else None) or str(status)
            message = _service_message(exc)
            if isinstance(exc, ResourceNotFoundError) or status == 404:
                return NotFound(message, native_code=code, **ctx)
            if isinstance(exc, ClientAuthenticationError) or status in (401, 403):
                return PermissionDenied(message, native_code=code, **ctx)
            if isinstance(exc, ResourceExistsError) or status == 409:
                if "cannot be updated" in message or "already exists" not in message:
                    return Conflict(message, native_code=code, **ctx)
                return AlreadyExists(message, native_code=code, **ctx)
            if status == 429:
                response: Any = exc.response
                retry = response.headers.get("Retry-After") if response is not None else None
                return RateLimited(message, native_code=code, retry_after=_seconds(retry), **ctx)
            if status == 412:
                return Conflict(message, native_code=code, **ctx)
            if status >= 500:
                return Unavailable(message, native_code=code, **ctx)
            if status == 400:
                return InvalidInput(message, native_code=code, **ctx)
            return Unavailable(message, native_code=code, **ctx)
        if isinstance(exc, ClientAuthenticationError):
            return PermissionDenied(f"Azure authentication failed: {exc}", **ctx)
        if isinstance(exc, (ServiceRequestError, ServiceResponseError)):
            return Unavailable(f"Azure ML is unreachable: {type(exc).__name__}: {exc}", **ctx)
        try:
            _import_sdk()
            from azure.ai.ml.exceptions import AssetPathException, MlException, ValidationException
        except ImportError:  # pragma: no cover - azure-ai-ml is installed whenever this runs
            AssetPathException = MlException = ValidationException = ()  # type: ignore[misc,assignment]  # noqa: N806
        if isinstance(exc, AssetPathException):
            return Conflict(str(exc), native_code="AssetPathException", **ctx)
        if isinstance(exc, ValidationException):
            return InvalidInput(str(exc), native_code="ValidationException", **ctx)
        if isinstance(exc, MlException):
            return InvalidInput(str(exc), native_code=type(exc).__name__, **ctx)
        try:
            from azure.identity import CredentialUnavailableError

            if isinstance(exc, CredentialUnavailableError):
                return PermissionDenied(f"no Azure credential available: {exc}", **ctx)
        except ImportError:  # pragma: no cover
            pass
        return Unavailable(f"{type(exc).__name__}: {exc}", **ctx)

    # -- description ------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind=self.kind,
            aliases=True,
            aliases_native=False,
            approval_native=False,
            stage_native=True,
            version_id_assignable=True,
            checksums=True,
            staged_uploads=True,
            list_page_max=100,
            search_filters=[],
            reserved_aliases=list(am.RESERVED_ALIASES),
            fidelity=dict(am.FIDELITY),
        )

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            with self._op("health"):
                if self._is_registry:
                    self._rest.call("GET", f"{self.base}/models", self._api, listViewType="All", count=1)
                else:
                    self._rest.call("GET", self.base, WORKSPACE_API)
            ok, message = True, None
        except RegistryError as exc:
            ok, message = False, exc.message[:200]
        return Health(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), message=message)

    def close(self) -> None:
        self._ml = None
        self._rest_client = None

    # -- models -----------------------------------------------------------------------------
    def _container(self, name: str) -> dict[str, Any]:
        return self._rest.call("GET", f"{self.base}/models/{name}", self._api)  # type: ignore[no-any-return]

    def _put_container(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._rest.call("PUT", f"{self.base}/models/{name}", self._api, body)  # type: ignore[no-any-return]

    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]:
        size = min(page_size or 100, 100)
        skip = int(page_token or 0)
        data = self._rest.call("GET", f"{self.base}/models", self._api, listViewType="All", count=size, **{"$skip": skip})
        raw = list(data.get("value") or [])[:size]
        models = [am.to_model(self.name, c) for c in raw]
        if query is not None:
            models = [m for m in models if _matches(m, query)]
        more = bool(data.get("nextLink")) or len(raw) == size
        return Page(items=models, next_token=str(skip + len(raw)) if more and raw else None)

    def get_model(self, name: str) -> Model:
        am.check_model_name(name)
        return am.to_model(self.name, self._container(name))

    def create_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> Model:
        from azure.core.exceptions import ResourceNotFoundError

        am.check_model_name(name)
        am.check_tags(tags or {})
        try:
            self._container(name)
        except ResourceNotFoundError:
            pass
        else:
            raise AlreadyExists(f"model {name!r} already exists", field="name")
        return am.to_model(self.name, self._put_container(name, am.container_body(description, tags or {})))

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model:
        am.check_model_name(name)
        am.check_tags(tags or {})
        removed = list(remove_tags)
        envelope.check_user_tags(dict.fromkeys(removed, ""), "remove_tags")
        current = self._container(name)
        props = current.get("properties") or {}
        new_tags = {**dict(props.get("tags") or {}), **dict(tags or {})}
        for key in removed:
            new_tags.pop(key, None)
        body = am.container_body(
            description if description is not None else props.get("description"), new_tags,
            bool(props.get("isArchived")),
        )
        return am.to_model(self.name, self._put_container(name, body))

    def delete_model(self, name: str) -> None:
        am.check_model_name(name)
        result = self._rest.call("DELETE", f"{self.base}/models/{name}", self._api)
        if result.get("_status") == 204:
            raise NotFound(f"model {name!r} does not exist", field="name")

    # -- versions ---------------------------------------------------------------------------
    def _version(self, model: str, version: str) -> dict[str, Any]:
        return self._rest.call("GET", f"{self.base}/models/{model}/versions/{version}", self._api)  # type: ignore[no-any-return]

    def _put_version(self, model: str, version: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._rest.call("PUT", f"{self.base}/models/{model}/versions/{version}", self._api, body)  # type: ignore[no-any-return]

    def _aliases_of(self, container: Mapping[str, Any]) -> dict[str, list[str]]:
        by_version: dict[str, list[str]] = {}
        for alias, version in am.alias_map((container.get("properties") or {}).get("tags") or {}).items():
            by_version.setdefault(version, []).append(alias)
        return by_version

    def _to_version(self, model: str, raw: Mapping[str, Any], aliases: Mapping[str, list[str]]) -> ModelVersion:
        return am.to_version(self.name, model, raw, aliases.get(str(raw.get("name")), []))

    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        am.check_model_name(model)
        aliases = self._aliases_of(self._container(model))
        size = min(page_size or 100, 100)
        skip = int(page_token or 0)
        data = self._rest.call(
            "GET", f"{self.base}/models/{model}/versions", self._api,
            listViewType="All", **{"$orderBy": "createdtime asc", "$skip": skip, "$top": size},
        )
        raw = list(data.get("value") or [])[:size]
        items = [self._to_version(model, r, aliases) for r in raw]
        return Page(items=items, next_token=str(skip + len(raw)) if len(raw) == size else None)

    def get_version(self, model: str, version: str) -> ModelVersion:
        am.check_model_name(model)
        am.check_version(version)
        aliases = self._aliases_of(self._container(model))
        return self._to_version(model, self._version(model, version), aliases)

    def create_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> ModelVersion:
        return self.commit_version(self.stage_version(model, spec, files))

    def _refuse_existing(self, model: str, version: str | None) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        if version is None:
            return
        try:
            self._version(model, version)
        except ResourceNotFoundError:
            return
        # the SDK's create_or_update would silently update it: a requested id must be new
        raise AlreadyExists(f"version {version} of model {model!r} already exists", field="version")

    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Spool and verify the files on local disk (parallel-safe); ``commit_version`` uploads and
        registers them in one SDK call, because azure-ai-ml ties the upload to the registration."""
        am.check_model_name(model)
        am.check_tags(spec.tags)
        if spec.version is not None:
            am.check_version(spec.version)
        self._container(model)  # NotFound before anything is spooled
        self._refuse_existing(model, spec.version)
        uploads = list(files)
        if uploads and spec.artifact_uri:
            raise InvalidInput("files: give either artifact_uri or files to upload, not both", field="files")
        tmp = tempfile.mkdtemp(prefix="mrg-azureml-")
        manifest: list[ArtifactFile] = []
        try:
            properties: dict[str, str] = {}
            if spec.created_by:
                properties[am.P_CREATED_BY] = spec.created_by
            path = spec.artifact_uri
            if not path:
                folder = Path(tmp) / am.ARTIFACT_DIR
                manifest = self._spool(folder, uploads, model, spec)
                if manifest:
                    properties[am.P_FILES] = am.files_property(manifest)
                path = str(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return StagedVersion(model=model, spec=spec, files=[], token={"dir": tmp, "path": path, "properties": properties},
                             stored=manifest)

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        _import_sdk()
        from azure.ai.ml.entities import Model as AzureModel

        model, spec, token = staged.model, staged.spec, staged.token
        try:
            self._refuse_existing(model, spec.version)
            stage_native, archived = am.stage_to_native(spec.stage)
            # Entity construction reads the current cloud too: keep it inside our settings window.
            with self._process_settings():
                entity = AzureModel(
                    name=model,
                    version=spec.version,
                    path=token["path"],
                    description=spec.description,
                    tags=am.version_tags(spec.tags, {
                        "approval": spec.approval, "metrics": spec.metrics, "params": spec.params,
                        "lineage": spec.lineage, "model_card": spec.model_card,
                    }),
                    properties=token["properties"],
                    stage=stage_native,
                    type=am.model_type(spec.format),
                )
                created = self.ml_client.models.create_or_update(entity)
        finally:
            self.discard_staged(staged)
        version = str(created.version)
        if archived:
            self._put_version(model, version, am.update_body(self._version(model, version), isArchived=True))
        return self.get_version(model, version)

    def discard_staged(self, staged: StagedVersion) -> None:
        if isinstance(staged.token, dict) and staged.token.get("dir"):
            shutil.rmtree(staged.token["dir"], ignore_errors=True)

    def _spool(self, folder: Path, uploads: list[ArtifactUpload], model: str, spec: VersionSpec) -> list[ArtifactFile]:
        """Stream uploads to disk while hashing; a digest mismatch fails before registration.

        A version without files still needs a ``modelUri``: it gets the ``mrg.json`` sidecar,
        which names the model and carries a nonce so the SDK's content-hash dedup never aliases
        two such versions to one blob.
        """
        folder.mkdir(parents=True)
        manifest: list[ArtifactFile] = []
        for upload in uploads:
            relative = PurePosixPath(upload.path)
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise InvalidInput(f"files: {upload.path!r} must be a relative path", field="files")
            target = folder.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            reader = HashingReader(upload.chunks)
            with target.open("wb") as out:
                shutil.copyfileobj(reader, out, DEFAULT_CHUNK)
            verify_digest(upload, reader.sha256, reader.bytes_read, registry=self.name)
            manifest.append(ArtifactFile(path=str(relative), size=reader.bytes_read, sha256=reader.sha256))
        if not manifest:
            sidecar = envelope.SidecarManifest(
                model=model, version=spec.version, entries={"mrg.nonce": os.urandom(8).hex()}
            )
            (folder / envelope.SIDECAR_FILENAME).write_bytes(sidecar.dumps())
        return manifest

    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion:
        am.check_model_name(model)
        am.check_version(version)
        am.check_tags(patch.tags or {})
        envelope.check_user_tags(dict.fromkeys(patch.remove_tags, ""), "remove_tags")
        raw = self._version(model, version)
        props = raw.get("properties") or {}
        user_tags, _ = envelope.split_tags(dict(props.get("tags") or {}))
        user_tags.update(patch.tags or {})
        for key in patch.remove_tags:
            user_tags.pop(key, None)
        fields = am.envelope_fields(raw)
        if patch.metrics is not None:
            fields["metrics"] = {**fields.get("metrics", {}), **patch.metrics}
        if patch.params is not None:
            fields["params"] = {**fields.get("params", {}), **patch.params}
        if patch.lineage is not None:
            fields["lineage"] = patch.lineage
        if patch.model_card is not None:
            fields["model_card"] = patch.model_card
        changes: dict[str, Any] = {"tags": am.version_tags(user_tags, fields)}
        if patch.description is not None:
            changes["description"] = patch.description
        self._put_version(model, version, am.update_body(raw, **changes))
        return self.get_version(model, version)

    def delete_version(self, model: str, version: str) -> None:
        am.check_model_name(model)
        am.check_version(version)
        container = self._container(model)
        result = self._rest.call("DELETE", f"{self.base}/models/{model}/versions/{version}", self._api)
        if result.get("_status") == 204:
            raise NotFound(f"version {version} of model {model!r} does not exist", field="version")
        props = container.get("properties") or {}
        aliases = am.alias_map(props.get("tags") or {})
        if version in aliases.values():
            kept = {a: v for a, v in aliases.items() if v != version}
            self._put_container(model, am.container_body(
                props.get("description"), am.with_aliases(props.get("tags") or {}, kept), bool(props.get("isArchived"))
            ))

    # -- pointers and governance --------------------------------------------------------------
    def _set_alias_map(self, model: str, container: Mapping[str, Any], aliases: Mapping[str, str]) -> None:
        props = container.get("properties") or {}
        self._put_container(model, am.container_body(
            props.get("description"), am.with_aliases(props.get("tags") or {}, aliases), bool(props.get("isArchived"))
        ))

    def set_alias(self, model: str, alias: str, version: str) -> None:
        am.check_model_name(model)
        am.check_alias(alias)
        am.check_version(version)
        container = self._container(model)
        self._version(model, version)
        aliases = am.alias_map((container.get("properties") or {}).get("tags") or {})
        aliases[alias] = version
        self._set_alias_map(model, container, aliases)

    def delete_alias(self, model: str, alias: str) -> None:
        am.check_model_name(model)
        container = self._container(model)
        aliases = am.alias_map((container.get("properties") or {}).get("tags") or {})
        if alias not in aliases:
            raise NotFound(f"alias: model {model!r} has no alias {alias!r}", field="alias")
        del aliases[alias]
        self._set_alias_map(model, container, aliases)

    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion:
        am.check_model_name(model)
        am.check_version(version)
        raw = self._version(model, version)
        user_tags, _ = envelope.split_tags(dict((raw.get("properties") or {}).get("tags") or {}))
        fields = am.envelope_fields(raw)
        fields["approval"] = approval
        self._put_version(model, version, am.update_body(raw, tags=am.version_tags(user_tags, fields)))
        return self.get_version(model, version)

    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion:
        am.check_model_name(model)
        am.check_version(version)
        native, archived = am.stage_to_native(Stage(stage))
        raw = self._version(model, version)
        self._put_version(model, version, am.update_body(raw, stage=native, isArchived=archived))
        return self.get_version(model, version)

    # -- artifacts ----------------------------------------------------------------------------
    def _container_client(
        self, model: str, version: str, chunk_size: int = DEFAULT_CHUNK
    ) -> tuple[Any, str, dict[str, ArtifactFile]]:
        """A blob container client for the version's files, the blob prefix, and the stored manifest."""
        from azure.storage.blob import ContainerClient

        sizes: dict[str, Any] = {
            "max_single_get_size": chunk_size, "max_chunk_get_size": chunk_size, "connection_verify": self._verify,
        }

        raw = self._version(model, version)
        props = raw.get("properties") or {}
        uri = str(props.get("modelUri") or "")
        manifest = am.read_files_property(props.get("properties") or {})
        if self._is_registry:
            parsed = am.parse_blob_uri(uri)
            if parsed is None:
                raise Unsupported(f"artifact: cannot read model URI {uri!r}", field="artifact.uri")
            asset_id = f"azureml://registries/{self.config.registry_name}/models/{model}/versions/{version}"
            ref = self._rest.call(
                "POST", f"{self.base}/datarefs/{model}/versions/{version}", self._api,
                {"assetId": asset_id, "blobUri": uri},
            )
            sas = ref["blobReferenceForConsumption"]["credential"]["sasUri"]
            return ContainerClient.from_container_url(sas, **sizes), parsed[2], manifest
        located = am.parse_datastore_uri(uri)
        if located is None:
            raise Unsupported(f"artifact: cannot read model URI {uri!r} (not a datastore path)", field="artifact.uri")
        datastore, prefix = located
        account_url, container, credential = self._datastore_access(datastore)
        client = ContainerClient(account_url, container, credential=credential, **sizes)
        return client, prefix, manifest

    def _datastore_access(self, datastore: str) -> tuple[str, str, Any]:
        cached = self._secrets.get(datastore)
        if cached and cached[0] > time.monotonic():
            return cached[1]  # type: ignore[no-any-return]
        ds = self._rest.call("GET", f"{self.base}/datastores/{datastore}", DATASTORE_API)
        props = ds.get("properties") or {}
        if props.get("datastoreType") != "AzureBlob":
            raise Unsupported(f"artifact: datastore {datastore!r} is {props.get('datastoreType')}, not AzureBlob")
        account = props["accountName"]
        credential: Any = self._cred()
        if (props.get("credentials") or {}).get("credentialsType") in ("AccountKey", "Sas"):
            secrets = self._rest.call(
                "POST", f"{self.base}/datastores/{datastore}/listSecrets", DATASTORE_API,
                {"expirableSecret": True, "expireAfterHours": 1},
            )
            if secrets.get("key"):
                credential = {"account_name": account, "account_key": secrets["key"]}
            elif secrets.get("sasToken"):
                credential = secrets["sasToken"]
        access = (f"https://{account}.blob.{self._endpoints['storage_endpoint']}", props["containerName"], credential)
        self._secrets[datastore] = (time.monotonic() + _SECRET_TTL, access)
        return access

    def _files(
        self, model: str, version: str, chunk_size: int = DEFAULT_CHUNK
    ) -> tuple[Any, dict[str, str], dict[str, int], dict[str, ArtifactFile]]:
        client, prefix, manifest = self._container_client(model, version, chunk_size)
        sizes: dict[str, int] = {}
        names: list[str] = []
        for blob in client.list_blobs(name_starts_with=prefix):
            names.append(blob.name)
            sizes[blob.name] = blob.size
        files = am.relative_files(prefix, names)
        files.pop(envelope.SIDECAR_FILENAME, None)  # the gateway's placeholder, not the user's artifact
        return client, files, sizes, manifest

    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        am.check_model_name(model)
        am.check_version(version)
        client, files, sizes, manifest = self._files(model, version)
        out: list[ArtifactFile] = []
        for path, blob in sorted(files.items()):
            size = sizes[blob]
            known = manifest.get(path)
            if known is not None and known.size == size and known.sha256:
                digest = known.sha256
            else:  # uploaded without the gateway (plain SDK, a job): hash the stored bytes
                hasher = hashlib.sha256()
                for block in client.get_blob_client(blob).download_blob().chunks():
                    hasher.update(block)
                digest = hasher.hexdigest()
            out.append(ArtifactFile(path=path, size=size, sha256=digest))
        return out

    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        am.check_model_name(model)
        am.check_version(version)
        client, files, _, _ = self._files(model, version, chunk_size)
        blob = files.get(path.strip("/"))
        if blob is None:
            raise NotFound(f"artifact: version {version} of {model!r} has no file {path!r}", field="path")
        return self._stream(client, blob)

    def _stream(self, client: Any, blob: str) -> Iterator[bytes]:
        with self._op("read_artifact"):
            yield from client.get_blob_client(blob).download_blob(max_concurrency=1).chunks()




def _matches(model: Model, query: ModelQuery) -> bool:
    if query.name_prefix and not model.name.startswith(query.name_prefix):
        return False
    if query.text and query.text.lower() not in f"{model.name} {model.description or ''}".lower():
        return False
    return all(model.tags.get(k) == v for k, v in query.tags.items())


def _service_message(exc: Any) -> str:
    error = getattr(exc, "error", None)
    message = getattr(error, "message", None) if error is not None else None
    return str(message or exc.message or exc).strip().splitlines()[0][:500]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
