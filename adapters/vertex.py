"""Vertex AI Model Registry backend over ``google.cloud.aiplatform_v1`` (REST transport).

Vertex has no empty models (a Model always has a version holding the ``default`` alias), so
``create_model`` uploads a hidden placeholder version that the first real version replaces.
Everything the registry has no field for travels through the label envelope of
``mapping.vertex`` (with an ``mrg.json`` sidecar in GCS for what labels cannot hold), lineage
through ML Metadata, and artifacts through GCS with sha256 recorded per object.

The SDK costs ~0.7 s to import, so it is imported on first use, never at module import.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from adapters.base import (
    DEFAULT_CHUNK,
    ArtifactUpload,
    Capabilities,
    Health,
    RegistryAdapter,
    StagedVersion,
    verify_digest,
)
from mapping import envelope
from mapping import vertex as mv
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
    Lineage,
    Model,
    ModelQuery,
    ModelVersion,
    Page,
    RegistryKind,
    Stage,
    VersionPatch,
    VersionSpec,
)

GCS_WRITE_CHUNK = 4 * 1024 * 1024  # BlobWriter needs a multiple of 256 KiB


class VertexSettings(BaseModel):
    """``api_endpoint``/``gcs_endpoint`` point at emulators (``http://127.0.0.1:PORT``); unset
    means Google's regional endpoint and GCS. ``bucket`` holds artifacts and sidecars.
    ``default_follows_latest`` moves Vertex's ``default`` alias to each new version, as the
    Vertex SDK does unless told ``is_default_version=False``."""

    model_config = ConfigDict(extra="forbid")

    project: str
    location: str = "us-central1"
    bucket: str
    prefix: str = "mrg"
    api_endpoint: str | None = None
    gcs_endpoint: str | None = None
    anonymous: bool = False
    create_bucket: bool = True
    metadata_store: str = "default"
    # Vertex needs a serving container on every upload. A registry never deploys, so the
    # default is a custom-container name in the project's own Artifact Registry (with prebuilt
    # images Vertex may check the artifact directory's file names); set the real one to deploy.
    serving_container_image_uri: str | None = None
    default_follows_latest: bool = True
    timeout: float = 120.0

    @classmethod
    def from_emulator(cls, info: Mapping[str, Any], bucket: str = "mrg-sandbox") -> VertexSettings:
        """Settings for ``emulators.vertex`` from its announcement line (what ``mrg sandbox`` reads)."""
        return cls(
            project=str(info["project"]),
            location=str(info["location"]),
            api_endpoint=str(info["endpoint"]),
            gcs_endpoint=str(info["gcs_endpoint"]) if info.get("gcs_endpoint") else None,
            bucket=bucket,
            anonymous=True,
        )


# google.rpc.Code names -> taxonomy. FAILED_PRECONDITION is a state conflict (e.g. deleting the
# version holding "default"), not bad input.
_STATUS: dict[str, type[RegistryError]] = {
    "NOT_FOUND": NotFound,
    "ALREADY_EXISTS": AlreadyExists,
    "ABORTED": Conflict,
    "FAILED_PRECONDITION": Conflict,
    "INVALID_ARGUMENT": InvalidInput,
    "OUT_OF_RANGE": InvalidInput,
    "PERMISSION_DENIED": PermissionDenied,
    "UNAUTHENTICATED": PermissionDenied,
    "RESOURCE_EXHAUSTED": RateLimited,
    "UNIMPLEMENTED": Unsupported,
    "UNAVAILABLE": Unavailable,
    "INTERNAL": Unavailable,
    "UNKNOWN": Unavailable,
    "DEADLINE_EXCEEDED": Unavailable,
    "CANCELLED": Unavailable,
    "DATA_LOSS": Unavailable,
}


class VertexAdapter(RegistryAdapter):
    kind = RegistryKind.VERTEX
    settings_model = VertexSettings

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.config = VertexSettings.model_validate(self.settings)
        self.parent = f"projects/{self.config.project}/locations/{self.config.location}"
        self.store = f"{self.parent}/metadataStores/{self.config.metadata_store}"
        self._models: Any = None
        self._metadata: Any = None
        self._gcs: Any = None
        self._bucket_ready = False

    # -- plumbing ---------------------------------------------------------------------------
    def _client_kwargs(self) -> dict[str, Any]:
        endpoint = self.config.api_endpoint or f"{self.config.location}-aiplatform.googleapis.com"
        kwargs: dict[str, Any] = {"transport": "rest", "client_options": {"api_endpoint": endpoint}}
        if self.config.anonymous:
            from google.auth.credentials import AnonymousCredentials

            kwargs["credentials"] = AnonymousCredentials()
        return kwargs

    @property
    def models(self) -> Any:
        if self._models is None:
            from google.cloud.aiplatform_v1 import ModelServiceClient

            self._models = ModelServiceClient(**self._client_kwargs())
        return self._models

    @property
    def metadata(self) -> Any:
        if self._metadata is None:
            from google.cloud.aiplatform_v1 import MetadataServiceClient

            self._metadata = MetadataServiceClient(**self._client_kwargs())
        return self._metadata

    @property
    def gcs(self) -> Any:
        if self._gcs is None:
            from google.cloud import storage

            kwargs: dict[str, Any] = {"project": self.config.project}
            if self.config.gcs_endpoint:
                kwargs["client_options"] = {"api_endpoint": self.config.gcs_endpoint}
            if self.config.anonymous:
                from google.auth.credentials import AnonymousCredentials

                kwargs["credentials"] = AnonymousCredentials()
            self._gcs = storage.Client(**kwargs)
        return self._gcs

    def _bucket(self) -> Any:
        bucket = self.gcs.bucket(self.config.bucket)
        if not self._bucket_ready:
            if self.config.create_bucket and not bucket.exists():
                from google.api_core.exceptions import Conflict as GcsConflict

                with contextlib.suppress(GcsConflict):  # a concurrent creator won
                    self.gcs.create_bucket(self.config.bucket, location=self.config.location)
            self._bucket_ready = True
        return bucket


    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        from google.api_core import exceptions as gexc

        if isinstance(exc, gexc.GoogleAPICallError):
            status = _status_name(exc)
            cls = _STATUS.get(status or "")
            if cls is None:
                cls = _class_for_http(exc)
            retry_after = _retry_after(exc)
            return cls(
                str(exc.message or exc),
                registry=self.name,
                operation=operation,
                native_code=status or str(exc.code),
                retry_after=retry_after,
            )
        if isinstance(exc, gexc.RetryError):
            return Unavailable(f"Vertex AI did not answer in time: {exc}", registry=self.name, operation=operation)
        import requests
        from google.auth import exceptions as auth_exc

        if isinstance(exc, auth_exc.GoogleAuthError):
            return PermissionDenied(f"Google credentials: {exc}", registry=self.name, operation=operation)
        if isinstance(exc, requests.exceptions.RequestException):
            return Unavailable(
                f"Vertex AI is unreachable: {type(exc).__name__}: {exc}", registry=self.name, operation=operation
            )
        if isinstance(exc, TimeoutError):
            return Unavailable(f"operation timed out: {exc}", registry=self.name, operation=operation)
        return Unavailable(f"{type(exc).__name__}: {exc}", registry=self.name, operation=operation)

    def _resource(self, model: str, version: str | None = None) -> str:
        base = f"{self.parent}/models/{model}"
        return f"{base}@{version}" if version is not None else base

    def _field_mask(self, paths: list[str]) -> Any:
        from google.protobuf import field_mask_pb2

        return field_mask_pb2.FieldMask(paths=paths)

    # -- description ------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind=self.kind,
            aliases=True,
            aliases_native=True,
            per_version_tags=True,
            model_tags=True,
            delete_model=True,
            delete_version=True,
            empty_models=True,
            version_id_assignable=False,
            checksums=True,
            staged_uploads=True,
            artifact_upload=True,
            max_tags=None,
            tag_key_max=None,
            tag_value_max=None,
            label_charset="[a-z0-9_-]{0,63} (plain labels; other tags travel in the envelope)",
            list_page_max=1000,
            search_filters=[],
            reserved_aliases=[mv.DEFAULT_ALIAS],
            fidelity=dict(mv.FIDELITY),
        )

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            with self._op("health"):
                self.models.list_models(request={"parent": self.parent, "page_size": 1})
            ok, message = True, None
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            ok, message = False, str(exc)[:200]
        return Health(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), message=message)

    def close(self) -> None:
        for client in (self._models, self._metadata):
            if client is not None:
                client.transport.close()
        self._models = self._metadata = None

    # -- sidecars ---------------------------------------------------------------------------
    def _sidecar_path(self, model: str, version: str | None) -> str:
        base = f"{self.config.prefix}/{model}"
        return (
            f"{base}/versions/{version}/{envelope.SIDECAR_FILENAME}"
            if version
            else f"{base}/{envelope.SIDECAR_FILENAME}"
        )

    def _write_sidecar(self, model: str, version: str | None, entries: Mapping[str, str]) -> None:
        blob = self._bucket().blob(self._sidecar_path(model, version))
        if entries:
            manifest = envelope.SidecarManifest(model=model, version=version, entries=dict(entries))
            blob.upload_from_string(manifest.dumps(), content_type="application/json")
        elif blob.exists():
            blob.delete()

    def _read_sidecar(self, model: str, version: str | None) -> dict[str, str]:
        blob = self._bucket().get_blob(self._sidecar_path(model, version))
        if blob is None:
            return {}
        return envelope.SidecarManifest.loads(blob.download_as_bytes()).entries

    # -- reading resources ------------------------------------------------------------------
    def _model_tags(self, resource: Any) -> dict[str, str]:
        labels = dict(resource.labels or {})
        entries, written, has_sidecar = mv.decode_labels(labels, scope="model")
        if not written:
            return mv.native_tags(labels)  # a model the gateway did not create
        if has_sidecar:
            entries.update(self._read_sidecar(mv.model_id_of(resource.name), None))
        return dict(envelope.decode_fields(entries).get("tags", {}))

    def _version_env(self, resource: Any) -> tuple[dict[str, Any], dict[str, str] | None]:
        labels = dict(resource.labels or {})
        entries, written, has_sidecar = mv.decode_labels(labels, scope="version")
        if has_sidecar:
            entries.update(self._read_sidecar(mv.model_id_of(resource.name), str(resource.version_id)))
        env = envelope.decode_fields(entries)
        if written:
            env.setdefault("tags", {})
            return env, None
        return env, mv.native_tags(labels)

    def _lineage(self, model: str, version: str) -> Lineage:
        from google.api_core.exceptions import NotFound as GNotFound

        artifact_id = mv.metadata_id("model", self._resource(model, version))
        try:
            artifact = self.metadata.get_artifact(name=f"{self.store}/artifacts/{artifact_id}")
        except GNotFound:
            return Lineage()
        return mv.lineage_from_metadata(dict(artifact.metadata))

    def _to_version(self, resource: Any) -> ModelVersion:
        env, fallback = self._version_env(resource)
        model = mv.model_id_of(resource.name)
        lineage = self._lineage(model, str(resource.version_id))
        return mv.to_version(self.name, resource, env=env, lineage=lineage, fallback_tags=fallback)

    def _all_versions(self, model: str) -> list[Any]:
        """Every version of a model, placeholder included, in version order."""
        versions = list(self.models.list_model_versions(request={"name": self._resource(model), "page_size": 1000}))
        return sorted(versions, key=lambda v: int(v.version_id))

    def _real_version(self, model: str, version: str) -> Any:
        resource = self.models.get_model(name=self._resource(model, version))
        if mv.is_placeholder(resource):
            raise NotFound(f"version: model {model!r} has no version {version!r}", field="version")
        return resource

    def _to_model(self, resource: Any) -> Model:
        model = mv.model_id_of(resource.name)
        aliases: dict[str, str] = {}
        real: list[int] = []
        for version in self._all_versions(model):
            for alias in version.version_aliases:
                aliases[alias] = str(version.version_id)
            if not mv.is_placeholder(version):
                real.append(int(version.version_id))
        placeholder_default = aliases.get(mv.DEFAULT_ALIAS) not in {str(v) for v in real}
        if placeholder_default:
            aliases.pop(mv.DEFAULT_ALIAS, None)
        return mv.to_model(
            self.name,
            resource,
            tags=self._model_tags(resource),
            aliases=aliases,
            latest_version=str(max(real)) if real else None,
        )

    # -- models -----------------------------------------------------------------------------
    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]:
        with self._op("list_models"):
            pager = self.models.list_models(
                request={
                    "parent": self.parent,
                    "page_size": min(page_size or 100, 1000),
                    "page_token": page_token or "",
                    "order_by": "create_time",
                }
            )
            items = [self._to_model(resource) for resource in pager.models]
            next_token = pager.next_page_token or None
        return Page(items=[m for m in items if _matches(m, query)], next_token=next_token)

    def get_model(self, name: str) -> Model:
        mv.check_model_name(name)
        with self._op("get_model"):
            return self._to_model(self.models.get_model(name=self._resource(name)))

    def create_model(
        self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> Model:
        mv.check_model_name(name)
        mv.check_tags(tags or {})
        with self._op("create_model"):
            labels, overflow = mv.encode_labels(
                tags or {}, mv.model_entries(tags or {}), scope="model", budget=mv.MODEL_LABEL_BUDGET
            )
            placeholder = self._upload(name, new_model=True, description=description or "", aliases=[])
            # Labels are written per scope after the upload, so the layout does not depend on
            # which scope the service files an upload's labels under.
            self._patch(self._resource(name), labels=labels)
            self._patch(self._resource(name, placeholder), labels={mv.PLACEHOLDER_LABEL: "1"})
            if overflow:
                self._write_sidecar(name, None, overflow)
            return self.get_model(name)

    def _upload(
        self,
        model: str,
        *,
        new_model: bool,
        description: str = "",
        version_description: str = "",
        artifact_uri: str | None = None,
        aliases: list[str],
    ) -> str:
        from google.cloud import aiplatform_v1

        body = aiplatform_v1.Model(
            display_name=model,
            description=description,
            version_description=version_description,
            artifact_uri=artifact_uri or f"gs://{self.config.bucket}/{self.config.prefix}/{model}/placeholder/",
            container_spec=aiplatform_v1.ModelContainerSpec(image_uri=self._serving_image()),
            version_aliases=aliases,
        )
        request = aiplatform_v1.UploadModelRequest(parent=self.parent, model=body)
        if new_model:
            request.model_id = model
        else:
            request.parent_model = self._resource(model)
        result = self.models.upload_model(request=request).result(timeout=self.config.timeout)
        return str(result.model_version_id)

    def _serving_image(self) -> str:
        return self.config.serving_container_image_uri or (
            f"{self.config.location}-docker.pkg.dev/{self.config.project}/mrg/registry-only:latest"
        )

    def _patch(self, name: str, *, labels: Mapping[str, str] | None = None, **fields: Any) -> Any:
        from google.cloud import aiplatform_v1

        paths = list(fields)
        body = aiplatform_v1.Model(name=name, **fields)
        if labels is not None:
            body.labels = dict(labels)
            paths.append("labels")
        return self.models.update_model(model=body, update_mask=self._field_mask(paths))

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model:
        mv.check_model_name(name)
        mv.check_tags(tags or {})
        removals = list(remove_tags)
        envelope.check_user_tags(dict.fromkeys(removals, ""), "remove_tags")
        with self._op("update_model"):
            resource = self.models.get_model(name=self._resource(name))
            merged = {**self._model_tags(resource), **(tags or {})}
            for key in removals:
                merged.pop(key, None)
            labels, overflow = mv.encode_labels(
                merged, mv.model_entries(merged), scope="model", budget=mv.MODEL_LABEL_BUDGET
            )
            fields = {"description": description} if description is not None else {}
            self._patch(self._resource(name), labels=labels, **fields)
            self._write_sidecar(name, None, overflow)
            return self.get_model(name)

    def delete_model(self, name: str) -> None:
        mv.check_model_name(name)
        with self._op("delete_model"):
            self.models.delete_model(name=self._resource(name)).result(timeout=self.config.timeout)
            # The gateway's own objects (managed artifacts, sidecars) go with the model.
            for blob in self._bucket().list_blobs(prefix=f"{self.config.prefix}/{name}/"):
                blob.delete()

    # -- versions ---------------------------------------------------------------------------
    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        mv.check_model_name(model)
        with self._op("list_versions"):
            pager = self.models.list_model_versions(
                request={
                    "name": self._resource(model),
                    "page_size": min(page_size or 100, 1000),
                    "page_token": page_token or "",
                    "order_by": "create_time",
                }
            )
            resources = sorted((r for r in pager.models if not mv.is_placeholder(r)), key=lambda r: int(r.version_id))
            items = [self._to_version(r) for r in resources]
            return Page(items=items, next_token=pager.next_page_token or None)

    def get_version(self, model: str, version: str) -> ModelVersion:
        mv.check_model_name(model)
        mv.check_version(version)
        with self._op("get_version"):
            return self._to_version(self._real_version(model, version))

    def create_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> ModelVersion:
        return self.commit_version(self.stage_version(model, spec, files))

    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Upload and verify the files now (versions stage in parallel); ``commit_version`` uploads
        the model version from ``staged.spec`` as it is then (``Capabilities.staged_uploads``)."""
        mv.check_model_name(model)
        mv.check_tags(spec.tags)
        if spec.version is not None:
            raise Unsupported(
                "version: Vertex AI assigns version IDs itself; a requested version id cannot be honoured",
                registry=self.name,
                operation="create_version",
                field="version",
            )
        with self._op("create_version"):
            self._all_versions(model)  # NotFound before any byte is uploaded
            uploads = list(files)
            if spec.artifact_uri:
                if uploads:
                    raise InvalidInput("files: give either artifact_uri or files to upload, not both", field="files")
                mv.parse_gs_uri(spec.artifact_uri)
                token = _Staged(artifact_uri=spec.artifact_uri)
            else:
                token = self._store_files(model, uploads)
            return StagedVersion(model=model, spec=spec, files=[], token=token, stored=token.stored)

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        token = staged.token
        assert isinstance(token, _Staged), "commit_version needs a StagedVersion from this adapter's stage_version"
        with self._op("create_version"):
            try:
                return self._register(staged.model, staged.spec, token.artifact_uri)
            except BaseException:
                self.discard_staged(staged)
                raise

    def discard_staged(self, staged: StagedVersion) -> None:
        if isinstance(staged.token, _Staged):
            _delete_blobs(staged.token.blobs)

    def _register(self, model: str, spec: VersionSpec, artifact_uri: str) -> ModelVersion:
        existing = self._all_versions(model)
        fields = {
            "tags": spec.tags,
            "stage": spec.stage,
            "approval": spec.approval,
            "metrics": spec.metrics,
            "params": spec.params,
            "model_card": spec.model_card,
            "created_by": spec.created_by,
        }
        labels, overflow = mv.encode_labels(
            spec.tags, mv.version_entries(fields), scope="version", budget=mv.VERSION_LABEL_BUDGET
        )
        placeholders = [v for v in existing if mv.is_placeholder(v)]
        take_default = self.config.default_follows_latest or any(
            mv.DEFAULT_ALIAS in v.version_aliases for v in placeholders
        )
        version = self._upload(
            model,
            new_model=False,
            version_description=spec.description or "",
            artifact_uri=artifact_uri,
            aliases=[mv.DEFAULT_ALIAS] if take_default else [],
        )
        self._patch(self._resource(model, version), labels=labels)
        if overflow:
            self._write_sidecar(model, version, overflow)
        self._write_lineage(model, version, spec.lineage, artifact_uri)
        for placeholder in placeholders:  # the model is no longer empty
            self.models.delete_model_version(name=self._resource(model, str(placeholder.version_id))).result(
                timeout=self.config.timeout
            )
        return self.get_version(model, version)

    def _store_files(self, model: str, uploads: list[ArtifactUpload]) -> _Staged:
        """Stream files into a fresh GCS directory; on any failure remove what was written."""
        directory = f"{self.config.prefix}/{model}/artifacts/{uuid.uuid4().hex}/"
        bucket = self._bucket()
        staged = _Staged(artifact_uri=f"gs://{self.config.bucket}/{directory}")
        try:
            for upload in uploads:
                path = upload.path.lstrip("/")
                if not path or ".." in path.split("/"):
                    raise InvalidInput(f"files: invalid artifact path {upload.path!r}", field="files")
                blob = bucket.blob(directory + path)
                staged.blobs.append(blob)
                sha, size = _stream_to_blob(blob, upload)
                verify_digest(upload, sha, size, registry=self.name)
                if blob.metadata is None or blob.metadata.get("sha256") != sha:
                    blob.metadata = {"sha256": sha}
                    blob.patch()
                staged.stored.append(ArtifactFile(path=path, size=size, sha256=sha))
        except BaseException:
            _delete_blobs(staged.blobs)
            raise
        return staged

    def _write_lineage(self, model: str, version: str, lineage: Lineage, artifact_uri: str | None) -> None:
        """The version as a system.Model artifact; its run and datasets as native ML Metadata nodes."""
        from google.api_core.exceptions import AlreadyExists as GAlreadyExists
        from google.api_core.exceptions import Conflict as GConflict
        from google.cloud import aiplatform_v1

        resource = self._resource(model, version)
        artifact_name = f"{self.store}/artifacts/{mv.metadata_id('model', resource)}"
        metadata = mv.lineage_metadata(lineage, resource)
        body = aiplatform_v1.Artifact(
            name=artifact_name,
            display_name=f"{model}@{version}",
            uri=artifact_uri or "",
            schema_title="system.Model",
            state=aiplatform_v1.Artifact.State.LIVE,
            metadata=metadata,
        )
        self.metadata.update_artifact(
            request={"artifact": body, "update_mask": self._field_mask(["metadata", "uri"]), "allow_missing": True}
        )
        if lineage.source_run is None and not lineage.datasets:
            return

        def create(kind: str, resource_id: str, message: Any) -> str:
            method = {"artifacts": self.metadata.create_artifact, "executions": self.metadata.create_execution}[kind]
            key = {"artifacts": "artifact", "executions": "execution"}[kind]
            with contextlib.suppress(GAlreadyExists, GConflict):  # one run or dataset feeds many versions
                method(request={"parent": self.store, key: message, f"{key}_id": resource_id})
            return f"{self.store}/{kind}/{resource_id}"

        run = lineage.source_run
        if run is not None:
            execution = create(
                "executions",
                mv.metadata_id("run", run.system, run.id),
                aiplatform_v1.Execution(
                    display_name=run.id[:128],
                    schema_title="system.Run",
                    state=aiplatform_v1.Execution.State.COMPLETE,
                    metadata={"system": run.system, "id": run.id, "uri": run.uri or ""},
                ),
            )
        else:
            execution = create(
                "executions",
                mv.metadata_id("registration", resource),
                aiplatform_v1.Execution(
                    display_name=f"register {model}@{version}",
                    schema_title="system.ContainerExecution",
                    state=aiplatform_v1.Execution.State.COMPLETE,
                ),
            )
        Event = aiplatform_v1.Event
        events = [Event(artifact=artifact_name, type_=Event.Type.OUTPUT)]
        for ds in lineage.datasets:
            dataset = create(
                "artifacts",
                mv.metadata_id("dataset", ds.uri, ds.digest or ""),
                aiplatform_v1.Artifact(
                    display_name=(ds.name or ds.uri)[:128],
                    uri=ds.uri,
                    schema_title="system.Dataset",
                    state=aiplatform_v1.Artifact.State.LIVE,
                    metadata={"digest": ds.digest or "", "name": ds.name or ""},
                ),
            )
            events.append(Event(artifact=dataset, type_=Event.Type.INPUT))
        self.metadata.add_execution_events(execution=execution, events=events)

    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion:
        mv.check_model_name(model)
        mv.check_version(version)
        mv.check_tags(patch.tags or {})
        envelope.check_user_tags(dict.fromkeys(patch.remove_tags, ""), "remove_tags")
        with self._op("update_version"):
            resource = self._real_version(model, version)
            env, fallback = self._version_env(resource)
            tags = dict(env.get("tags", fallback or {}))
            tags.update(patch.tags or {})
            for key in patch.remove_tags:
                tags.pop(key, None)
            env["tags"] = tags
            if patch.metrics is not None:
                env["metrics"] = {**env.get("metrics", {}), **patch.metrics}
            if patch.params is not None:
                env["params"] = {**env.get("params", {}), **patch.params}
            if patch.model_card is not None:
                env["model_card"] = patch.model_card
            extra = {"version_description": patch.description} if patch.description is not None else {}
            self._write_version_env(model, version, env, **extra)
            if patch.lineage is not None:
                self._write_lineage(model, version, patch.lineage, resource.artifact_uri or None)
            return self.get_version(model, version)

    def _write_version_env(self, model: str, version: str, env: Mapping[str, Any], **fields: Any) -> None:
        tags = dict(env.get("tags", {}))
        labels, overflow = mv.encode_labels(
            tags, mv.version_entries(env), scope="version", budget=mv.VERSION_LABEL_BUDGET
        )
        self._patch(self._resource(model, version), labels=labels, **fields)
        self._write_sidecar(model, version, overflow)

    def delete_version(self, model: str, version: str) -> None:
        mv.check_model_name(model)
        mv.check_version(version)
        with self._op("delete_version"):
            resource = self._real_version(model, version)
            if mv.DEFAULT_ALIAS in resource.version_aliases:
                # Vertex refuses to delete the default holder: hand "default" on first, to the
                # newest other version, or to a fresh placeholder when this is the last one.
                others = [
                    v for v in self._all_versions(model) if str(v.version_id) != version and not mv.is_placeholder(v)
                ]
                if others:
                    target = str(max(int(v.version_id) for v in others))
                    self.models.merge_version_aliases(
                        name=self._resource(model, target), version_aliases=[mv.DEFAULT_ALIAS]
                    )
                else:
                    placeholder = self._upload(model, new_model=False, aliases=[mv.DEFAULT_ALIAS])
                    self._patch(self._resource(model, placeholder), labels={mv.PLACEHOLDER_LABEL: "1"})
            self.models.delete_model_version(name=self._resource(model, version)).result(timeout=self.config.timeout)
            for blob in self._bucket().list_blobs(prefix=f"{self.config.prefix}/{model}/versions/{version}/"):
                blob.delete()

    # -- pointers and governance --------------------------------------------------------------
    def set_alias(self, model: str, alias: str, version: str) -> None:
        mv.check_model_name(model)
        mv.check_alias(alias)
        mv.check_version(version)
        with self._op("set_alias"):
            self._real_version(model, version)
            self.models.merge_version_aliases(name=self._resource(model, version), version_aliases=[alias])

    def delete_alias(self, model: str, alias: str) -> None:
        mv.check_model_name(model)
        mv.check_alias(alias)
        if alias == mv.DEFAULT_ALIAS:
            raise InvalidInput(
                "alias: Vertex AI keeps exactly one 'default' version; move it with set_alias instead",
                registry=self.name,
                operation="delete_alias",
                field="alias",
            )
        with self._op("delete_alias"):
            from google.api_core.exceptions import NotFound as GNotFound

            try:
                holder = self.models.get_model(name=self._resource(model, alias))
            except GNotFound:
                self.models.get_model(name=self._resource(model))  # a missing model reports itself
                raise NotFound(f"alias: model {model!r} has no alias {alias!r}", field="alias") from None
            self.models.merge_version_aliases(
                name=self._resource(model, str(holder.version_id)), version_aliases=[f"-{alias}"]
            )

    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion:
        return self._set_envelope_field(model, version, "set_approval", "approval", approval)

    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion:
        return self._set_envelope_field(model, version, "set_stage", "stage", Stage(stage))

    def _set_envelope_field(self, model: str, version: str, operation: str, field: str, value: Any) -> ModelVersion:
        mv.check_model_name(model)
        mv.check_version(version)
        with self._op(operation):
            resource = self._real_version(model, version)
            env, fallback = self._version_env(resource)
            env.setdefault("tags", dict(fallback or {}))
            env[field] = value
            self._write_version_env(model, version, env)
            return self.get_version(model, version)

    # -- artifacts ----------------------------------------------------------------------------
    def _artifact_location(self, model: str, version: str) -> tuple[str, str]:
        resource = self._real_version(model, version)
        if not resource.artifact_uri:
            raise NotFound(f"version {model}@{version} has no artifact", field="artifact")
        bucket, path = mv.parse_gs_uri(resource.artifact_uri)
        return bucket, path if not path or path.endswith("/") else path + "/"

    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        mv.check_model_name(model)
        mv.check_version(version)
        with self._op("list_artifacts"):
            bucket, prefix = self._artifact_location(model, version)
            files = []
            for blob in self.gcs.list_blobs(bucket, prefix=prefix):
                sha = (blob.metadata or {}).get("sha256")
                if not sha:  # written outside the gateway: compute it, streaming
                    digest = hashlib.sha256()
                    for block in _stream_blob(blob, DEFAULT_CHUNK):
                        digest.update(block)
                    sha = digest.hexdigest()
                files.append(ArtifactFile(path=blob.name[len(prefix) :], size=blob.size, sha256=sha))
            return files

    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        mv.check_model_name(model)
        mv.check_version(version)
        with self._op("read_artifact"):
            bucket, prefix = self._artifact_location(model, version)
            blob = self.gcs.bucket(bucket).get_blob(prefix + path.lstrip("/"))
            if blob is None:
                raise NotFound(f"artifact: {model}@{version} has no file {path!r}", field="path")
        return self._guarded(_stream_blob(blob, chunk_size), "read_artifact")

    def _guarded(self, stream: Iterator[bytes], operation: str) -> Iterator[bytes]:
        with self._op(operation):
            yield from stream


# -- helpers ---------------------------------------------------------------------------------
def _stream_to_blob(blob: Any, upload: ArtifactUpload) -> tuple[str, int]:
    """Write chunks through a resumable upload without holding the file; -> (sha256, size).

    When the caller already knows the digest it is stored with the object in the same upload;
    otherwise it is patched on afterwards.
    """
    if upload.sha256:
        blob.metadata = {"sha256": upload.sha256}
    digest = hashlib.sha256()
    size = 0
    # checksum="crc32c": the client checks GCS's crc32c of the finished object against its own.
    with blob.open("wb", chunk_size=GCS_WRITE_CHUNK, ignore_flush=True, checksum="crc32c") as writer:
        for chunk in upload.chunks:
            digest.update(chunk)
            size += len(chunk)
            writer.write(chunk)
    return digest.hexdigest(), size


def _stream_blob(blob: Any, chunk_size: int) -> Iterator[bytes]:
    """Stream an object in chunks and check the bytes against the crc32c GCS reports for it.

    Ranged reads are not validated by the client, so the whole-object checksum is verified
    here once the last chunk has passed; a mismatch fails the read instead of ending it quietly.
    """
    import google_crc32c

    crc = google_crc32c.Checksum()
    with blob.open("rb", chunk_size=max(chunk_size, 1)) as reader:
        while block := reader.read(chunk_size):
            crc.update(block)
            yield block
    if blob.crc32c and base64.b64encode(crc.digest()).decode() != blob.crc32c:
        raise Unavailable(f"artifact {blob.name!r}: crc32c of the bytes read does not match GCS's {blob.crc32c}")


def _status_name(exc: Any) -> str | None:
    """The google.rpc status name: from the REST error body, else from the gRPC code."""
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "json"):
        try:
            status = response.json().get("error", {}).get("status")
            if isinstance(status, str):
                return status
        except Exception:  # noqa: BLE001 - a non-JSON body: fall back to the class
            pass
    code = getattr(exc, "grpc_status_code", None)
    return getattr(code, "name", None)


def _class_for_http(exc: Any) -> type[RegistryError]:
    status = exc.code if isinstance(exc.code, int) else 500
    return {
        400: InvalidInput,
        401: PermissionDenied,
        403: PermissionDenied,
        404: NotFound,
        409: Conflict,
        412: Conflict,
        429: RateLimited,
        501: Unsupported,
    }.get(status, Unavailable if status >= 500 else InvalidInput)


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _matches(model: Model, query: ModelQuery | None) -> bool:
    """Filters applied after reading: Vertex has no name-prefix filter, and tags are enveloped."""
    if query is None:
        return True
    if query.name_prefix and not model.name.startswith(query.name_prefix):
        return False
    if any(model.tags.get(k) != v for k, v in query.tags.items()):
        return False
    if query.text:
        needle = query.text.lower()
        return needle in model.name.lower() or needle in (model.description or "").lower()
    return True


@dataclass
class _Staged:
    """A version's files in GCS, stored by ``stage_version``, waiting for ``commit_version``."""

    artifact_uri: str
    blobs: list[Any] = field(default_factory=list)
    stored: list[ArtifactFile] = field(default_factory=list)


def _delete_blobs(blobs: list[Any]) -> None:
    for blob in blobs:
        with contextlib.suppress(Exception):  # best effort: the original error matters
            blob.delete()
