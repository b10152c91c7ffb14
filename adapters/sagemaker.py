"""SageMaker Model Registry backend over boto3 (``sagemaker`` + ``s3``).

A model is a model package group and a version is a versioned model package, numbered by
SageMaker. Approval and lifecycle stage are written to SageMaker's own fields, so SageMaker
users and CI/CD see them. Per-version tags and the ``mrg.*`` envelope go to
``CustomerMetadataProperties``, and the ``mrg.json`` sidecar in S3 takes whatever does not
fit. Aliases are kept as one map in the group's tags, which keeps each alias unique per
model. Lineage is also published as SageMaker lineage entities.

Every update re-sends the full approval status, approval comment and metadata map
(read-modify-write). That is correct on AWS, which applies updates as patches, and also on
moto, which replaces these fields on every UpdateModelPackage.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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
from mapping import envelope
from mapping import sagemaker as sm_map
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
    ApprovalStatus,
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


class SageMakerSettings(BaseModel):
    """Where the registry and its S3 bucket are, and how hard boto3 retries.

    Credentials come from boto3's own chain (environment, profile, instance role). The key
    fields exist only for local emulators, whose keys are not secrets.
    """

    model_config = ConfigDict(extra="forbid")

    region: str = "us-east-1"
    endpoint_url: str | None = None
    s3_endpoint_url: str | None = None
    bucket: str | None = None
    prefix: str = "mrg"
    create_bucket: bool = False
    profile: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    max_attempts: int = 3
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    inference_image: str | None = None
    lineage_entities: bool = True
    parallel_reads: int = 8  # concurrent describe/list-tags calls when a page needs one per item


# botocore error codes -> taxonomy. Throttling codes are the ones botocore's own retry logic
# treats as throttling (retries/standard.py); SageMaker answers missing groups and packages
# with ValidationException, told apart by message below.
_THROTTLING = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
    "PriorRequestNotComplete",
}
_ERROR_CODES: dict[str, type[RegistryError]] = {
    "ResourceNotFound": NotFound,
    "ResourceNotFoundException": NotFound,
    "NoSuchKey": NotFound,
    "NoSuchBucket": NotFound,
    "NotFound": NotFound,
    "404": NotFound,
    "ResourceAlreadyExists": AlreadyExists,
    "BucketAlreadyOwnedByYou": AlreadyExists,
    "ConflictException": Conflict,
    "ResourceInUse": Conflict,
    "ResourceLimitExceeded": InvalidInput,
    "ValidationException": InvalidInput,
    "SerializationException": InvalidInput,
    "InvalidParameterValue": InvalidInput,
    "AccessDenied": PermissionDenied,
    "AccessDeniedException": PermissionDenied,
    "UnrecognizedClientException": PermissionDenied,
    "InvalidSignatureException": PermissionDenied,
    "InvalidClientTokenId": PermissionDenied,
    "ExpiredToken": PermissionDenied,
    "ExpiredTokenException": PermissionDenied,
    "403": PermissionDenied,
    "UnknownOperationException": Unsupported,
    "InternalFailure": Unavailable,
    "InternalError": Unavailable,
    "ServiceUnavailable": Unavailable,
}


def _not_found_message(message: str) -> bool:
    lowered = message.lower()
    return "does not exist" in lowered or "not found" in lowered


def translate_error(exc: Exception, *, registry: str, operation: str) -> RegistryError:
    """Map a boto3/botocore exception onto the taxonomy, keeping the native code."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        ParamValidationError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        message = str(error.get("Message") or code)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if message.lstrip().startswith("<"):  # an HTML error page (proxies, moto's unimplemented calls)
            message = f"HTTP {status} with a non-JSON error body"
        if code in _THROTTLING or status == 429:
            cls: type[RegistryError] = RateLimited
        else:
            cls = _ERROR_CODES.get(code) or (Unavailable if status >= 500 else InvalidInput)
        if cls is InvalidInput and code == "ValidationException":
            if "already exists" in message.lower():
                cls = AlreadyExists
            elif _not_found_message(message):
                cls = NotFound
        return cls(f"SageMaker {operation}: {message}", registry=registry, operation=operation, native_code=code)
    if isinstance(exc, ParamValidationError):
        return InvalidInput(str(exc), registry=registry, operation=operation, native_code="ParamValidationError")
    if isinstance(exc, NoCredentialsError):
        return PermissionDenied(str(exc), registry=registry, operation=operation, native_code="NoCredentials")
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionError)):
        return Unavailable(f"SageMaker is unreachable: {exc}", registry=registry, operation=operation)
    if isinstance(exc, BotoCoreError):
        return Unavailable(f"{type(exc).__name__}: {exc}", registry=registry, operation=operation)
    return Unavailable(f"{type(exc).__name__}: {exc}", registry=registry, operation=operation)


@dataclass
class _VersionState:
    """A version's envelope, decoded, ready to be changed and written back."""

    tags: dict[str, str]
    fields: dict[str, Any]
    extra: dict[str, str] = field(default_factory=dict)


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InvalidInput(f"artifact: not an s3:// URI: {uri!r}", field="artifact.uri")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key.rstrip("/")


def _check_path(path: str) -> None:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or path == envelope.SIDECAR_FILENAME:
        raise InvalidInput(
            f"files: {path!r} must be a relative path without '.', '..' or empty segments, and not "
            f"{envelope.SIDECAR_FILENAME!r}",
            field="files",
        )


class SageMakerAdapter(RegistryAdapter):
    kind = RegistryKind.SAGEMAKER
    settings_model = SageMakerSettings

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.config = SageMakerSettings.model_validate(self.settings)
        self._sm: Any = None
        self._s3: Any = None
        self._bucket_ready = False

    # -- plumbing -----------------------------------------------------------------------------
    def _session(self) -> Any:
        import boto3

        return boto3.session.Session(
            profile_name=self.config.profile,
            aws_access_key_id=self.config.aws_access_key_id,
            aws_secret_access_key=self.config.aws_secret_access_key,
            aws_session_token=self.config.aws_session_token,
            region_name=self.config.region,
        )

    def _boto_config(self) -> Any:
        from botocore.config import Config

        return Config(
            retries={"mode": self.config.retry_mode, "total_max_attempts": self.config.max_attempts},
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.read_timeout,
        )

    @property
    def sm(self) -> Any:
        if self._sm is None:
            self._sm = self._session().client("sagemaker", endpoint_url=self.config.endpoint_url,
                                              config=self._boto_config())
        return self._sm

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self._session().client("s3", endpoint_url=self.config.s3_endpoint_url,
                                              config=self._boto_config())
        return self._s3

    def close(self) -> None:
        for client in (self._sm, self._s3):
            if client is not None:
                client.close()
        self._sm = self._s3 = None


    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        return translate_error(exc, registry=self.name, operation=operation)

    def _require_bucket(self, why: str) -> str:
        if not self.config.bucket:
            raise InvalidInput(f"bucket: {why} needs an S3 bucket; set 'bucket' in the registry settings",
                               registry=self.name, field="bucket")
        if not self._bucket_ready and self.config.create_bucket:
            from botocore.exceptions import ClientError

            try:
                self.s3.head_bucket(Bucket=self.config.bucket)
            except ClientError:
                kwargs: dict[str, Any] = {"Bucket": self.config.bucket}
                if self.config.region != "us-east-1":
                    kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.config.region}
                self.s3.create_bucket(**kwargs)
        self._bucket_ready = True
        return self.config.bucket

    # -- description ----------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind=self.kind,
            aliases=True,
            aliases_native=False,
            approval_native=True,
            stage_native=True,
            per_version_tags=False,
            model_tags=True,
            delete_model=True,
            delete_version=True,
            empty_models=True,
            version_id_assignable=False,
            lineage_parents=True,
            lineage_datasets=True,
            model_card=True,
            metrics=True,
            params=True,
            checksums=True,
            staged_uploads=True,
            artifact_upload=self.config.bucket is not None,
            server_side_copy=False,
            max_tags=sm_map.MAX_GROUP_TAGS,
            tag_key_max=sm_map.TAG_KEY_MAX,
            tag_value_max=sm_map.TAG_VALUE_MAX,
            label_charset="[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]",
            list_page_max=sm_map.LIST_PAGE_MAX,
            search_filters=["name_prefix", "tags"],
            fidelity=dict(sm_map.FIDELITY),
        )

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            with self._op("health"):
                self.sm.list_model_package_groups(MaxResults=1)
            ok, message = True, None
        except RegistryError as exc:
            ok, message = False, exc.message[:200]
        return Health(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), message=message)

    # -- reads shared by the operations -----------------------------------------------------------
    def _group(self, name: str) -> dict[str, Any]:
        sm_map.check_group_name(name)
        return dict(self.sm.describe_model_package_group(ModelPackageGroupName=name))

    def _group_tags(self, arn: str) -> list[dict[str, str]]:
        tags: list[dict[str, str]] = []
        token: str | None = None
        while True:
            page = self.sm.list_tags(ResourceArn=arn, **({"NextToken": token} if token else {}))
            tags += page.get("Tags", [])
            token = page.get("NextToken")
            if not token:
                return tags

    @staticmethod
    def _package_arn(group: Mapping[str, Any], version: int) -> str:
        head, _, _ = str(group["ModelPackageGroupArn"]).partition(":model-package-group/")
        return f"{head}:model-package/{group['ModelPackageGroupName'].lower()}/{version}"

    def _package(self, group: Mapping[str, Any], version: str) -> dict[str, Any]:
        number = sm_map.check_version_id(version)
        try:
            package = dict(self.sm.describe_model_package(ModelPackageName=self._package_arn(group, number)))
        except Exception as exc:  # noqa: BLE001 - re-raised translated
            err = translate_error(exc, registry=self.name, operation="describe_model_package")
            if isinstance(err, (NotFound, InvalidInput)) and err.native_code == "ValidationException":
                raise NotFound(f"model {group['ModelPackageGroupName']!r} has no version {version}",
                               field="version", native_code=err.native_code) from exc
            raise err from exc
        if package.get("ModelPackageGroupName") != group["ModelPackageGroupName"]:
            raise NotFound(f"model {group['ModelPackageGroupName']!r} has no version {version}", field="version")
        return package

    def _sidecar(self, package: Mapping[str, Any]) -> dict[str, str]:
        metadata = package.get("CustomerMetadataProperties") or {}
        if not sm_map.needs_sidecar(metadata):
            return {}
        uri = sm_map.decode_entries(metadata, [envelope.K_SIDECAR])[envelope.K_SIDECAR]
        bucket, key = _split_s3(uri)
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return dict(envelope.SidecarManifest.loads(body).entries)

    def _map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """``map`` with a few threads: a page of N items costs one round trip, not N (boto3 clients are thread-safe)."""
        if len(items) <= 1 or self.config.parallel_reads <= 1:
            return [fn(item) for item in items]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(self.config.parallel_reads, len(items))) as pool:
            return list(pool.map(fn, items))

    def _to_version(self, package: Mapping[str, Any], aliases: Mapping[str, str]) -> ModelVersion:
        version = str(package["ModelPackageVersion"])
        mine = [alias for alias, target in aliases.items() if target == version]
        return sm_map.to_version(self.name, package, aliases=mine, sidecar=self._sidecar(package))

    def _aliases(self, group: Mapping[str, Any]) -> dict[str, str]:
        return sm_map.read_group_tags(self._group_tags(group["ModelPackageGroupArn"]))[1]

    def _state(self, package: Mapping[str, Any]) -> _VersionState:
        metadata = package.get("CustomerMetadataProperties") or {}
        user, entries = sm_map.read_metadata(metadata, self._sidecar(package))
        fields = envelope.decode_fields({k: v for k, v in entries.items() if k in envelope.KEY_FIELDS})
        tags = {**user, **fields.pop("tags", {})}
        extra = {k: entries[k] for k in sm_map.EXTRA_KEYS if k in entries}
        if envelope.K_APPROVAL not in entries:
            # Written outside the gateway: the native status is the truth; keep it as recorded.
            fields["approval"] = sm_map.approval_from(package, None)
        return _VersionState(tags=tags, fields=fields, extra=extra)

    # -- writes shared by the operations ----------------------------------------------------------
    def _sidecar_uri(self, state: _VersionState, model: str) -> str | None:
        artifact = state.extra.get(sm_map.K_ARTIFACT)
        if artifact and self.config.bucket and artifact.startswith(f"s3://{self.config.bucket}/"):
            return f"{artifact.rstrip('/')}/{envelope.SIDECAR_FILENAME}"
        if self.config.bucket:
            return f"s3://{self.config.bucket}/{self.config.prefix}/{model}/sidecars/{uuid.uuid4().hex}/mrg.json"
        return None

    def _metadata(self, model: str, version: str | None, state: _VersionState) -> dict[str, str]:
        """Encode the state; write the sidecar when the metadata map cannot hold everything."""
        sidecar_uri = self._sidecar_uri(state, model) or envelope.SIDECAR_FILENAME
        metadata, overflow = sm_map.build_metadata(state.tags, state.fields, state.extra, sidecar_uri)
        if overflow:
            self._require_bucket("metadata past SageMaker's 50 x 256 character limit")
            bucket, key = _split_s3(sidecar_uri)
            manifest = envelope.SidecarManifest(model=model, version=version, entries=overflow)
            self.s3.put_object(Bucket=bucket, Key=key, Body=manifest.dumps(), ContentType="application/json")
        return metadata

    def _rewrite(
        self, model: str, version: str, operation: str,
        change: Callable[[_VersionState], None], native: Mapping[str, Any] | None = None,
    ) -> ModelVersion:
        """Read-modify-write one version: the full approval, comment and metadata map every time."""
        with self._op(operation):
            group = self._group(model)
            package = self._package(group, version)
            state = self._state(package)
            change(state)
            metadata = self._metadata(model, version, state)
            old = package.get("CustomerMetadataProperties") or {}
            approval: Approval = state.fields.get("approval") or Approval()
            request: dict[str, Any] = {
                "ModelPackageArn": package["ModelPackageArn"],
                "ModelApprovalStatus": sm_map.APPROVAL_TO_NATIVE[approval.status],
                "ApprovalDescription": sm_map.native_comment(approval.comment),
                **(native or {}),
            }
            if metadata:
                request["CustomerMetadataProperties"] = metadata
            removed = sorted(k for k in old if k not in metadata)
            if removed:
                request["CustomerMetadataPropertiesToRemove"] = removed
            self.sm.update_model_package(**request)
            updated = dict(self.sm.describe_model_package(ModelPackageName=package["ModelPackageArn"]))
            return self._to_version(updated, self._aliases(group))

    # -- models -------------------------------------------------------------------------------
    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]:
        query = query or ModelQuery()
        request: dict[str, Any] = {
            "SortBy": "CreationTime",
            "SortOrder": "Ascending",
            "MaxResults": min(page_size or sm_map.LIST_PAGE_MAX, sm_map.LIST_PAGE_MAX),
        }
        if query.name_prefix and sm_map.kv_chars_ok(query.name_prefix) and query.name_prefix.replace("-", "").isalnum():
            request["NameContains"] = query.name_prefix
        if page_token:
            request["NextToken"] = page_token
        with self._op("list_models"):
            page = self.sm.list_model_package_groups(**request)
            summaries = []
            for summary in page.get("ModelPackageGroupSummaryList", []):
                name = summary["ModelPackageGroupName"]
                if query.name_prefix and not name.startswith(query.name_prefix):
                    continue
                if query.text and query.text.lower() not in f"{name} {summary.get('ModelPackageGroupDescription') or ''}".lower():
                    continue
                summaries.append(summary)

            def read(summary: Mapping[str, Any]) -> Model:
                tags = self._group_tags(summary["ModelPackageGroupArn"])
                return sm_map.to_model(self.name, summary, tags, self._latest(summary["ModelPackageGroupName"]))

            models = self._map(read, summaries)
        models = [m for m in models if all(m.tags.get(k) == v for k, v in query.tags.items())]
        return Page(items=models, next_token=page.get("NextToken") or None)

    def _latest(self, name: str) -> str | None:
        page = self.sm.list_model_packages(ModelPackageGroupName=name, ModelPackageType="Versioned",
                                           SortBy="CreationTime", SortOrder="Descending", MaxResults=1)
        summaries = page.get("ModelPackageSummaryList", [])
        return str(summaries[0]["ModelPackageVersion"]) if summaries else None

    def get_model(self, name: str) -> Model:
        with self._op("get_model"):
            group = self._group(name)
            return sm_map.to_model(self.name, group, self._group_tags(group["ModelPackageGroupArn"]), self._latest(name))

    def create_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> Model:
        with self._op("create_model"):
            sm_map.check_group_name(name)
            sm_map.check_model_tags(tags or {})
            from botocore.exceptions import ClientError

            try:
                self.sm.describe_model_package_group(ModelPackageGroupName=name)
            except ClientError as exc:
                if not isinstance(translate_error(exc, registry=self.name, operation="create_model"), NotFound):
                    raise
            else:  # some backends (moto) silently overwrite a duplicate group
                raise AlreadyExists(f"model {name!r} already exists", field="name")
            request: dict[str, Any] = {"ModelPackageGroupName": name}
            extra_tags: dict[str, str] = {}
            if description:
                if sm_map.description_ok(description):
                    request["ModelPackageGroupDescription"] = description
                else:
                    extra_tags = sm_map.description_tags(description)
            all_tags = {**(tags or {}), **extra_tags}
            if all_tags:
                request["Tags"] = [{"Key": k, "Value": v} for k, v in all_tags.items()]
            self.sm.create_model_package_group(**request)
            return self.get_model(name)

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model:
        remove = list(remove_tags)
        with self._op("update_model"):
            sm_map.check_model_tags(tags or {})
            envelope.check_user_tags(dict.fromkeys(remove, ""), "remove_tags")
            group = self._group(name)
            arn = group["ModelPackageGroupArn"]
            current = {t["Key"]: t.get("Value", "") for t in self._group_tags(arn)}
            new_tags = dict(tags or {})
            if description is not None:
                # No UpdateModelPackageGroup exists: a changed description lives in the group's tags.
                stale = sm_map.chunk_keys(current, sm_map.K_MODEL_DESCRIPTION)
                if stale:
                    self.sm.delete_tags(ResourceArn=arn, TagKeys=stale)
                new_tags.update(sm_map.description_tags(description))
            if new_tags:
                self.sm.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in new_tags.items()])
            doomed = [k for k in remove if k in current]
            if doomed:
                self.sm.delete_tags(ResourceArn=arn, TagKeys=doomed)
            return self.get_model(name)

    def delete_model(self, name: str) -> None:
        with self._op("delete_model"):
            self._group(name)  # NotFound before anything is deleted
            for summary in list(self._iter_packages(name)):
                self._delete_package(summary["ModelPackageArn"])
            self.sm.delete_model_package_group(ModelPackageGroupName=name)

    # -- versions -----------------------------------------------------------------------------
    def _iter_packages(self, name: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self.sm.list_model_packages(ModelPackageGroupName=name, ModelPackageType="Versioned",
                                               MaxResults=sm_map.LIST_PAGE_MAX, **({"NextToken": token} if token else {}))
            yield from page.get("ModelPackageSummaryList", [])
            token = page.get("NextToken")
            if not token:
                return

    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        with self._op("list_versions"):
            group = self._group(model)
            request: dict[str, Any] = {
                "ModelPackageGroupName": model, "ModelPackageType": "Versioned",
                "SortBy": "CreationTime", "SortOrder": "Ascending",
                "MaxResults": min(page_size or sm_map.LIST_PAGE_MAX, sm_map.LIST_PAGE_MAX),
            }
            if page_token:
                request["NextToken"] = page_token
            page = self.sm.list_model_packages(**request)
            aliases = self._aliases(group)

            def read(summary: Mapping[str, Any]) -> ModelVersion:
                package = dict(self.sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"]))
                return self._to_version(package, aliases)

            items = self._map(read, page.get("ModelPackageSummaryList", []))
        items.sort(key=lambda v: v.ordinal)
        return Page(items=items, next_token=page.get("NextToken") or None)

    def get_version(self, model: str, version: str) -> ModelVersion:
        with self._op("get_version"):
            group = self._group(model)
            return self._to_version(self._package(group, version), self._aliases(group))

    def create_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> ModelVersion:
        return self.commit_version(self.stage_version(model, spec, files))

    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Upload and verify the files now (versions stage in parallel); ``commit_version`` creates
        the model package from ``staged.spec`` as it is then (``Capabilities.staged_uploads``)."""
        with self._op("create_version"):
            if spec.version is not None:
                raise Unsupported(
                    "version: SageMaker numbers model package versions itself; a requested version id cannot be "
                    "honoured", field="version")
            envelope.check_user_tags(spec.tags)
            uploads = list(files)
            if spec.artifact_uri and uploads:
                raise InvalidInput("files: give either artifact_uri or files to upload, not both", field="files")
            for upload in uploads:
                _check_path(upload.path)
            group = self._group(model)
            staged = _Staged(group=group, artifact_uri=spec.artifact_uri)
            try:
                if staged.artifact_uri is None and (uploads or self.config.bucket):
                    bucket = self._require_bucket("uploading artifacts")
                    staged.artifact_uri = f"s3://{bucket}/{self.config.prefix}/{model}/{uuid.uuid4().hex}"
                    staged.manifest = self._upload(staged.artifact_uri, uploads, staged.written)
            except BaseException:
                self._delete_objects(staged.written)
                raise
            return StagedVersion(model=model, spec=spec, files=[], token=staged,
                                 stored=[ArtifactFile(**entry) for entry in staged.manifest])

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        token = staged.token
        assert isinstance(token, _Staged), "commit_version needs a StagedVersion from this adapter's stage_version"
        with self._op("create_version"):
            try:
                return self._register(token, staged.spec)
            except BaseException:
                self._delete_objects(token.written)
                raise

    def discard_staged(self, staged: StagedVersion) -> None:
        if isinstance(staged.token, _Staged):
            self._delete_objects(staged.token.written)

    def _register(self, staged: _Staged, spec: VersionSpec) -> ModelVersion:
        model = staged.group["ModelPackageGroupName"]
        artifact_uri, manifest, written = staged.artifact_uri, staged.manifest, staged.written
        fields: dict[str, Any] = {
            "stage": spec.stage, "approval": spec.approval, "metrics": spec.metrics, "params": spec.params,
            "lineage": spec.lineage, "model_card": spec.model_card, "created_by": spec.created_by,
        }
        native_description = spec.description if spec.description and sm_map.description_ok(spec.description) else None
        if spec.description and native_description is None:
            fields["description"] = spec.description
        extra: dict[str, str] = {}
        if artifact_uri:
            extra[sm_map.K_ARTIFACT] = artifact_uri
        if manifest:
            extra[sm_map.K_FILES] = json.dumps(manifest, separators=(",", ":"))
        if spec.format:
            extra[sm_map.K_FORMAT] = spec.format
        if spec.framework:
            extra[sm_map.K_FRAMEWORK] = spec.framework
        state = _VersionState(tags=dict(spec.tags), fields=fields, extra=extra)
        metadata = self._metadata(model, None, state)
        if sm_map.needs_sidecar(metadata):
            uri = sm_map.decode_entries(metadata, [envelope.K_SIDECAR])[envelope.K_SIDECAR]
            written.append(_split_s3(uri))
        request: dict[str, Any] = {
            "ModelPackageGroupName": model,
            "ModelApprovalStatus": sm_map.APPROVAL_TO_NATIVE[spec.approval.status],
            "ClientToken": uuid.uuid4().hex[:32],
        }
        if native_description:
            request["ModelPackageDescription"] = native_description
        if metadata:
            request["CustomerMetadataProperties"] = metadata
        if spec.stage is not Stage.NONE:
            request["ModelLifeCycle"] = sm_map.lifecycle(spec.stage)
        if spec.model_card:
            card = sm_map.model_card_native(spec.model_card)
            if len(card["ModelCardContent"]) <= sm_map.MODEL_CARD_MAX:
                request["ModelCard"] = card
        if artifact_uri and len(artifact_uri) <= 1024:
            request["SourceUri"] = artifact_uri
        props = sm_map.metadata_properties(spec.lineage)
        if props:
            request["MetadataProperties"] = props
        if self.config.inference_image and artifact_uri and artifact_uri.startswith("s3://"):
            request["InferenceSpecification"] = {
                "Containers": [{
                    "Image": self.config.inference_image,
                    "ModelDataSource": {"S3DataSource": {"S3Uri": artifact_uri.rstrip("/") + "/",
                                                         "S3DataType": "S3Prefix", "CompressionType": "None"}},
                }],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            }
        arn = self.sm.create_model_package(**request)["ModelPackageArn"]
        if spec.approval.comment:
            # CreateModelPackage takes no ApprovalDescription: the comment needs one update.
            self.sm.update_model_package(
                ModelPackageArn=arn, ModelApprovalStatus=request["ModelApprovalStatus"],
                ApprovalDescription=sm_map.native_comment(spec.approval.comment),
                **({"CustomerMetadataProperties": metadata} if metadata else {}),
            )
        if self.config.lineage_entities and not spec.lineage.is_empty():
            self._publish_lineage(arn, spec.lineage)
        package = dict(self.sm.describe_model_package(ModelPackageName=arn))
        return self._to_version(package, {})

    def _upload(self, prefix_uri: str, uploads: list[ArtifactUpload], written: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Stream each file to S3 with a SHA-256 checksum; verify it before the version exists."""
        bucket, prefix = _split_s3(prefix_uri)
        manifest = []
        for upload in uploads:
            key = f"{prefix}/{upload.path}"
            reader = HashingReader(upload.chunks)
            written.append((bucket, key))
            self.s3.upload_fileobj(reader, bucket, key, ExtraArgs={"ChecksumAlgorithm": "SHA256"})
            verify_digest(upload, reader.sha256, reader.bytes_read, registry=self.name)
            manifest.append({"path": upload.path, "size": reader.bytes_read, "sha256": reader.sha256})
        return manifest

    def _delete_objects(self, objects: list[tuple[str, str]]) -> None:
        for bucket, key in objects:
            with contextlib.suppress(Exception):  # best effort: a failure is already being raised
                self.s3.delete_object(Bucket=bucket, Key=key)

    def _publish_lineage(self, package_arn: str, lineage: Lineage) -> None:
        """Mirror lineage as SageMaker lineage entities around an artifact standing for the package."""
        target = self._lineage_artifact(package_arn, "ModelPackage", {})
        links: list[tuple[str, str, str, dict[str, str]]] = []
        for dataset in lineage.datasets:
            props = {k: v for k, v in {"digest": dataset.digest or "", "name": dataset.name or ""}.items() if v}
            links.append((dataset.uri, "DataSet", "ContributedTo", props))
        for parent in lineage.parents:
            links.append((parent.uri, "Model", "DerivedFrom", {"relation": parent.relation}))
        if lineage.source_run is not None:
            run = lineage.source_run
            links.append((run.uri or run.id, "TrainingJob", "Produced", {"system": run.system, "id": run.id}))
        if lineage.code is not None:
            links.append((lineage.code.repo, "Code", "ContributedTo", {"commit": lineage.code.commit or ""}))
        for uri, kind, association, props in links:
            source = self._lineage_artifact(uri, kind, {k: v for k, v in props.items() if v})
            self.sm.add_association(SourceArn=source, DestinationArn=target, AssociationType=association)

    def _lineage_artifact(self, uri: str, kind: str, props: dict[str, str]) -> str:
        found = self.sm.list_artifacts(SourceUri=uri, ArtifactType=kind, MaxResults=1).get("ArtifactSummaries", [])
        if found:
            return str(found[0]["ArtifactArn"])
        request: dict[str, Any] = {"Source": {"SourceUri": uri[:2048]}, "ArtifactType": kind}
        if props:
            request["Properties"] = {k: v[:4096] for k, v in props.items()}
        return str(self.sm.create_artifact(**request)["ArtifactArn"])

    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion:
        envelope.check_user_tags(patch.tags or {})

        def change(state: _VersionState) -> None:
            state.tags.update(patch.tags or {})
            for key in patch.remove_tags:
                envelope.check_user_tags({key: ""}, "remove_tags")
                state.tags.pop(key, None)
            if patch.description is not None:
                state.fields["description"] = patch.description  # ModelPackageDescription is immutable
            if patch.metrics is not None:
                state.fields["metrics"] = {**state.fields.get("metrics", {}), **patch.metrics}
            if patch.params is not None:
                state.fields["params"] = {**state.fields.get("params", {}), **patch.params}
            if patch.lineage is not None:
                state.fields["lineage"] = patch.lineage
            if patch.model_card is not None:
                state.fields["model_card"] = patch.model_card

        native: dict[str, Any] = {}
        if patch.model_card is not None:
            card = sm_map.model_card_native(patch.model_card)
            if len(card["ModelCardContent"]) <= sm_map.MODEL_CARD_MAX:
                native["ModelCard"] = card
        return self._rewrite(model, version, "update_version", change, native)

    def delete_version(self, model: str, version: str) -> None:
        with self._op("delete_version"):
            group = self._group(model)
            package = self._package(group, version)
            self._delete_package(package["ModelPackageArn"])
            aliases = self._aliases(group)
            remaining = {a: v for a, v in aliases.items() if v != str(package["ModelPackageVersion"])}
            if remaining != aliases:
                self._write_aliases(group, remaining)

    def _delete_package(self, arn: str) -> None:
        """Delete one package, then what the gateway made for it: artifact, sidecar, lineage artifact."""
        described = dict(self.sm.describe_model_package(ModelPackageName=arn))
        self.sm.delete_model_package(ModelPackageName=arn)
        entries = sm_map.decode_entries(described.get("CustomerMetadataProperties") or {},
                                        [sm_map.K_ARTIFACT, envelope.K_SIDECAR])
        self._delete_managed_prefix(entries.get(sm_map.K_ARTIFACT))
        sidecar = entries.get(envelope.K_SIDECAR)
        if sidecar and sidecar.startswith("s3://"):
            self._delete_objects([_split_s3(sidecar)])
        if self.config.lineage_entities:
            from botocore.exceptions import ClientError

            try:
                for summary in self.sm.list_artifacts(SourceUri=arn).get("ArtifactSummaries", []):
                    self.sm.delete_artifact(ArtifactArn=summary["ArtifactArn"])
            except ClientError:
                pass  # lineage entities are a mirror; the package itself is gone

    def _delete_managed_prefix(self, uri: str | None) -> None:
        """Delete a version's artifact only when the gateway created it (under its own prefix)."""
        if not uri or not self.config.bucket or not uri.startswith(f"s3://{self.config.bucket}/{self.config.prefix}/"):
            return
        bucket, prefix = _split_s3(uri)
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "/"):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})

    # -- pointers and governance -----------------------------------------------------------------
    def _write_aliases(self, group: Mapping[str, Any], aliases: Mapping[str, str]) -> None:
        arn = group["ModelPackageGroupArn"]
        current = {t["Key"]: t.get("Value", "") for t in self._group_tags(arn)}
        stale = sm_map.chunk_keys(current, envelope.K_ALIASES)
        wanted = sm_map.alias_tags(aliases) if aliases else {}
        doomed = [k for k in stale if k not in wanted]
        if doomed:
            self.sm.delete_tags(ResourceArn=arn, TagKeys=doomed)
        changed = {k: v for k, v in wanted.items() if current.get(k) != v}
        if changed:
            self.sm.add_tags(ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in changed.items()])

    def set_alias(self, model: str, alias: str, version: str) -> None:
        with self._op("set_alias"):
            sm_map.check_alias(alias)
            group = self._group(model)
            self._package(group, version)
            aliases = self._aliases(group)
            aliases[alias] = str(int(version))
            self._write_aliases(group, aliases)

    def delete_alias(self, model: str, alias: str) -> None:
        with self._op("delete_alias"):
            group = self._group(model)
            aliases = self._aliases(group)
            if alias not in aliases:
                raise NotFound(f"alias: model {model!r} has no alias {alias!r}", field="alias")
            del aliases[alias]
            self._write_aliases(group, aliases)

    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion:
        if approval.status is not ApprovalStatus.NONE and approval.at is None:
            approval = approval.model_copy(update={"at": datetime.now(UTC)})

        def change(state: _VersionState) -> None:
            state.fields["approval"] = approval

        return self._rewrite(model, version, "set_approval", change)

    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion:
        stage = Stage(stage)

        def change(state: _VersionState) -> None:
            state.fields["stage"] = stage

        return self._rewrite(model, version, "set_stage", change, {"ModelLifeCycle": sm_map.lifecycle(stage)})

    # -- artifacts -----------------------------------------------------------------------------
    def _artifact_location(self, model: str, version: str) -> tuple[ModelVersion, str, str]:
        group = self._group(model)
        current = self._to_version(self._package(group, version), {})
        if not current.artifact.uri:
            raise NotFound(f"model {model!r} version {version} has no artifact", field="artifact")
        bucket, prefix = _split_s3(current.artifact.uri)
        return current, bucket, prefix

    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        with self._op("list_artifacts"):
            current, bucket, prefix = self._artifact_location(model, version)
            if current.artifact.files:
                return list(current.artifact.files)
            files = []
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "/"):
                for obj in page.get("Contents", []):
                    path = obj["Key"][len(prefix) + 1 :]
                    if path == envelope.SIDECAR_FILENAME:
                        continue
                    digest = hashlib.sha256()
                    for block in self.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].iter_chunks(DEFAULT_CHUNK):
                        digest.update(block)
                    files.append(ArtifactFile(path=path, size=obj["Size"], sha256=digest.hexdigest()))
            return files

    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        with self._op("read_artifact"):
            _check_path(path)
            current, bucket, prefix = self._artifact_location(model, version)
            body = self.s3.get_object(Bucket=bucket, Key=f"{prefix}/{path}")["Body"]
        expected = next((f.sha256 for f in current.artifact.files if f.path == path), None)
        return self._stream(body, chunk_size, path, expected)

    def _stream(self, body: Any, chunk_size: int, path: str, expected_sha256: str | None) -> Iterator[bytes]:
        """Yield the object's chunks; with a recorded digest, fail at the end if the bytes changed."""
        digest = hashlib.sha256()
        with self._op("read_artifact"):
            try:
                for block in body.iter_chunks(chunk_size):
                    digest.update(block)
                    yield block
            finally:
                body.close()
            if expected_sha256 and digest.hexdigest() != expected_sha256:
                raise InvalidInput(
                    f"artifact {path!r}: stored bytes hash to {digest.hexdigest()}, not the recorded {expected_sha256}",
                    field="artifact.sha256",
                )


@dataclass
class _Staged:
    """A version's uploads, done by ``stage_version``, waiting for ``commit_version``."""

    group: Mapping[str, Any]
    artifact_uri: str | None
    manifest: list[dict[str, Any]] = field(default_factory=list)
    written: list[tuple[str, str]] = field(default_factory=list)
