"""MLflow backend over ``MlflowClient``: the reference adapter of the contract.

Works against an in-process store (``sqlite:///…``, ``postgresql://…``) and a remote
``mlflow server`` alike. Versions created through the gateway get a run of their own (tagged
``mrg.managed``) that holds the artifact, metrics, params and dataset inputs natively, so an
MLflow user sees everything the gateway wrote with plain MLflow tools.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from adapters.artifacts import mlflow_store
from adapters.base import (
    DEFAULT_CHUNK,
    ArtifactUpload,
    Capabilities,
    HashingReader,
    Health,
    RegistryAdapter,
    StagedVersion,
    VersionFiles,
    verify_digest,
)
from mapping import envelope
from mapping import mlflow as mm
from mapping.errors import (
    AlreadyExists,
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

if TYPE_CHECKING:
    from mlflow.entities import Run


class MlflowSettings(BaseModel):
    """``tracking_uri``: ``http(s)://`` server or a database URI for an in-process store."""

    model_config = ConfigDict(extra="forbid")

    tracking_uri: str
    registry_uri: str | None = None
    experiment: str = "mrg-registry"
    artifact_location: str | None = None
    http_retries: int = 0  # the gateway retries itself (adapters.retry), with Retry-After
    http_timeout: int = 30


_ERROR_CODES: dict[str, type[RegistryError]] = {
    "RESOURCE_DOES_NOT_EXIST": NotFound,
    "NOT_FOUND": NotFound,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "INVALID_PARAMETER_VALUE": InvalidInput,
    "INVALID_STATE": InvalidInput,
    "BAD_REQUEST": InvalidInput,
    "PERMISSION_DENIED": PermissionDenied,
    "UNAUTHENTICATED": PermissionDenied,
    "REQUEST_LIMIT_EXCEEDED": RateLimited,
    "TEMPORARILY_UNAVAILABLE": Unavailable,
    "ENDPOINT_NOT_FOUND": NotFound,
}




# Concurrent get_run calls when a page of versions needs one per version (MlflowClient's REST
# store is used from many threads by the gateway already).
_PARALLEL_RUN_READS = 8
# Run ids per search_runs filter (keeps the filter string well inside any server's URL limits:
# the REST client sends searches as POST bodies, but proxies in front of MLflow vary).
_RUN_IDS_PER_SEARCH = 100


class MlflowAdapter(RegistryAdapter):
    kind = RegistryKind.MLFLOW
    settings_model = MlflowSettings

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.config = MlflowSettings.model_validate(self.settings)
        self._client: Any = None
        self._experiment_id: str | None = None
        # MLflow's SQL store inserts a dataset after checking it is new; two runs logging the same
        # dataset at once (versions staged in parallel) break its unique key. Serialise them.
        self._inputs_lock = threading.Lock()
        # Versions staged in parallel all want the gateway's experiment: look it up once.
        self._experiment_lock = threading.Lock()
        # A run's artifact location never changes and run ids are never reused: remembering it
        # lets a version's ``runs:/`` source be located without a ``get_run`` per read.
        self._artifact_roots: dict[str, str] = {}
        # Models this client has seen exist: staging skips its "model exists?" read for them (a
        # model deleted meanwhile fails the commit, which removes the staged run).
        self._known_models: set[str] = set()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            # MLflow's REST client retries for minutes by default; the gateway retries itself.
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(self.config.http_retries))
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(self.config.http_timeout))
            # MLflow prints a "View run" link on stdout per run; a gateway's stdout is not a UI.
            os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.config.tracking_uri, registry_uri=self.config.registry_uri)
        return self._client

    @property
    def _remote(self) -> bool:
        return self.config.tracking_uri.startswith(("http://", "https://"))


    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        from mlflow.exceptions import MlflowException

        if isinstance(exc, MlflowException):
            code = str(exc.error_code)
            message = exc.message if hasattr(exc, "message") else str(exc)
            if "too many 429 error responses" in message:
                # With MLflow's own retries off, urllib3 reports a 429 as a failed retry and the
                # response (and its Retry-After) is gone: ask the server once more for the hint.
                return RateLimited(f"MLflow at {self.config.tracking_uri} is throttling requests",
                                   registry=self.name, operation=operation, native_code="429",
                                   retry_after=self._retry_after_hint())
            cls = _ERROR_CODES.get(code)
            if cls is None:
                status = exc.get_http_status_code()
                cls = RateLimited if status == 429 else Unavailable if status >= 500 else InvalidInput
            if cls is InvalidInput and "already exists" in message:
                cls = AlreadyExists
            if cls is InvalidInput and ("not found" in message.lower() or "does not exist" in message.lower()):
                cls = NotFound
            return cls(message, registry=self.name, operation=operation, native_code=code)
        import requests

        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            cls = {404: NotFound, 403: PermissionDenied, 401: PermissionDenied, 409: AlreadyExists, 429: RateLimited}.get(
                status, Unavailable if status >= 500 else InvalidInput
            )
            return cls(f"MLflow answered HTTP {status} to {operation}", registry=self.name, operation=operation,
                       native_code=str(status))
        if isinstance(exc, requests.exceptions.RequestException):
            return Unavailable(f"MLflow at {self.config.tracking_uri} is unreachable: {type(exc).__name__}",
                               registry=self.name, operation=operation)
        if isinstance(exc, ValueError):  # MLflow's own parsing of what we passed (page tokens, filters)
            return InvalidInput(f"{operation}: MLflow rejected the input ({exc})", registry=self.name,
                                operation=operation)
        return Unavailable(f"{type(exc).__name__}: {exc}", registry=self.name, operation=operation)

    def _retry_after_hint(self) -> float | None:
        if not self._remote:
            return None
        import requests

        try:
            resp = requests.get(self.config.tracking_uri.rstrip("/") + "/api/2.0/mlflow/registered-models/search",
                                params={"max_results": 1}, timeout=3)
            value = resp.headers.get("Retry-After") if resp.status_code == 429 else None
            return float(value) if value is not None else None
        except (requests.exceptions.RequestException, ValueError):
            return None

    def _experiment(self) -> str:
        if self._experiment_id is not None:
            return self._experiment_id
        with self._experiment_lock:
            return self._find_or_create_experiment()

    def _find_or_create_experiment(self) -> str:
        if self._experiment_id is None:
            exp = self.client.get_experiment_by_name(self.config.experiment)
            if exp is None:
                try:
                    self._experiment_id = self.client.create_experiment(
                        self.config.experiment, artifact_location=self.config.artifact_location
                    )
                except Exception:  # noqa: BLE001 - a concurrent creator won the race
                    exp = self.client.get_experiment_by_name(self.config.experiment)
                    if exp is None:
                        raise
                    self._experiment_id = exp.experiment_id
            else:
                self._experiment_id = exp.experiment_id
        return self._experiment_id

    # -- description ------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind=self.kind,
            aliases_native=True,
            version_id_assignable=False,
            checksums=False,
            staged_uploads=True,
            max_tags=None,
            tag_key_max=mm.TAG_KEY_MAX,
            tag_value_max=mm.TAG_VALUE_MAX,
            list_page_max=1000,
            search_filters=["name_prefix", "tags"],
            reserved_aliases=["latest", "v<number>"],
            fidelity=dict(mm.FIDELITY),
        )

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            if self._remote:
                import requests

                resp = requests.get(self.config.tracking_uri.rstrip("/") + "/health", timeout=3)
                ok = resp.status_code == 200
                message = None if ok else f"HTTP {resp.status_code}"
            else:
                with self._op("health"):
                    self.client.search_registered_models(max_results=1)
                ok, message = True, None
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            ok, message = False, str(exc)[:200]
        return Health(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), message=message)

    # -- models -----------------------------------------------------------------------------
    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]:
        clauses = []
        if query and query.name_prefix:
            clauses.append(f"name LIKE '{_quote(query.name_prefix)}%'")
        for key, value in (query.tags if query else {}).items():
            clauses.append(f"tags.`{key}` = '{_quote(value)}'")
        _check_page_token(page_token)
        with self._op("list_models"):
            result = self.client.search_registered_models(
                filter_string=" AND ".join(clauses) or None,
                max_results=min(page_size or 100, 1000),
                order_by=["name ASC"],
                page_token=page_token,
            )
        return Page(items=[mm.to_model(self.name, rm) for rm in result], next_token=result.token or None)

    def get_model(self, name: str) -> Model:
        mm.check_model_name(name)
        with self._op("get_model"):
            model = mm.to_model(self.name, self.client.get_registered_model(name))
            self._known_models.add(name)
            return model

    def create_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> Model:
        mm.check_model_name(name)
        mm.check_tags(tags or {})
        with self._op("create_model"):
            rm = self.client.create_registered_model(name, tags=dict(tags or {}), description=description)
            self._known_models.add(name)
            return mm.to_model(self.name, rm)

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model:
        mm.check_model_name(name)
        mm.check_tags(tags or {})
        with self._op("update_model"):
            self.client.get_registered_model(name)
            if description is not None:
                self.client.update_registered_model(name, description=description)
            for key, value in (tags or {}).items():
                self.client.set_registered_model_tag(name, key, value)
            for key in remove_tags:
                self.client.delete_registered_model_tag(name, key)
            return mm.to_model(self.name, self.client.get_registered_model(name))

    def delete_model(self, name: str) -> None:
        mm.check_model_name(name)
        self._known_models.discard(name)
        with self._op("delete_model"):
            self.client.delete_registered_model(name)

    # -- versions ---------------------------------------------------------------------------
    def _aliases_by_version(self, model: str) -> dict[str, list[str]]:
        # search_model_versions never returns aliases (mlflow#16734): read them from the model.
        by_version: dict[str, list[str]] = {}
        for alias, version in (self.client.get_registered_model(model).aliases or {}).items():
            by_version.setdefault(str(version), []).append(alias)
        return by_version

    def _run(self, run_id: str | None, cache: dict[str, Any] | None = None) -> Any | None:
        if not run_id:
            return None
        if cache is not None and run_id in cache:
            return cache[run_id]
        from mlflow.exceptions import MlflowException

        try:
            run = self.client.get_run(run_id)
            self._artifact_roots[run_id] = run.info.artifact_uri
        except MlflowException:
            run = None  # deleted or redacted run: the version still reads, without run data
        if cache is not None:
            cache[run_id] = run
        return run

    def _runs_of(self, versions: Iterable[Any]) -> dict[str, Any]:
        """The runs behind a page of versions, with few round trips.

        A ``get_run`` per version made listing (and so every migration plan and copy) cost N
        requests, each a full read on the server. Runs of one model mostly share an experiment:
        read one run to learn it, then fetch the others of that experiment with one
        ``search_runs``; repeat for runs still missing. If a search finds none of them (runs
        scattered over experiments), read the rest a few at a time as before."""
        from mlflow.exceptions import MlflowException

        pending = sorted({str(mv.run_id) for mv in versions if mv.run_id})
        found: dict[str, Any] = {}
        searched: set[str] = set()
        while len(pending) > 1:
            run = self._run(pending[0])
            found[pending[0]] = run
            pending = pending[1:]
            experiment = run.info.experiment_id if run is not None else None
            if experiment is None or experiment in searched:
                continue
            searched.add(experiment)
            try:
                hits = self._search_runs(experiment, pending)
            except MlflowException:  # a store that cannot filter on run ids: read them one by one
                hits = {}
            found.update(hits)
            pending = [run_id for run_id in pending if run_id not in hits]
            if not hits:
                break
        if len(pending) <= 1:
            found.update({run_id: self._run(run_id) for run_id in pending})
            return found
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(_PARALLEL_RUN_READS, len(pending))) as pool:
            found.update(zip(pending, pool.map(self._run, pending), strict=True))
        return found

    def _search_runs(self, experiment_id: str, run_ids: list[str]) -> dict[str, Any]:
        """Runs of ``run_ids`` in one experiment (deleted runs too, as ``get_run`` returns them)."""
        from mlflow.entities import ViewType

        found: dict[str, Any] = {}
        for i in range(0, len(run_ids), _RUN_IDS_PER_SEARCH):
            chunk = run_ids[i : i + _RUN_IDS_PER_SEARCH]
            quoted = ", ".join(f"'{_quote(run_id)}'" for run_id in chunk)
            token = None
            while True:
                page = self.client.search_runs(
                    [experiment_id], filter_string=f"attributes.run_id IN ({quoted})",
                    run_view_type=ViewType.ALL, max_results=len(chunk), page_token=token,
                )
                for run in page:
                    found[run.info.run_id] = run
                    self._artifact_roots[run.info.run_id] = run.info.artifact_uri
                token = page.token
                if not token:
                    break
        return found

    def _to_version(self, mv: Any, aliases: dict[str, list[str]], runs: dict[str, Any] | None = None) -> ModelVersion:
        return mm.to_version(self.name, mv, aliases=aliases.get(str(mv.version), []), run=self._run(mv.run_id, runs))

    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        mm.check_model_name(model)
        _check_page_token(page_token)
        with self._op("list_versions"):
            aliases = self._aliases_by_version(model)
            result = self.client.search_model_versions(
                filter_string=f"name = '{_quote(model)}'",
                max_results=min(page_size or 1000, 10000),
                order_by=["version_number ASC"],
                page_token=page_token,
            )
            runs = self._runs_of(result)
            items = [self._to_version(mv, aliases, runs) for mv in result]
        return Page(items=items, next_token=result.token or None)

    def get_version(self, model: str, version: str) -> ModelVersion:
        mm.check_model_name(model)
        _check_version(version)
        with self._op("get_version"):
            mv = self.client.get_model_version(model, version)
            return self._to_version(mv, self._aliases_by_version(model))

    def create_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> ModelVersion:
        return self.commit_version(self.stage_version(model, spec, files))

    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Create the run holding the artifact, metrics, params and datasets; register nothing yet.

        The version's tags (envelope included) are built in ``commit_version`` from ``staged.spec``
        as it is then (``Capabilities.staged_uploads``)."""
        mm.check_model_name(model)
        mm.check_tags(spec.tags)
        if spec.version is not None:
            raise Unsupported(
                "version: MLflow assigns version numbers itself; a requested version id cannot be honoured",
                registry=self.name, field="version",
            )
        with self._op("create_version"):
            if model not in self._known_models:
                self.client.get_registered_model(model)  # NotFound before any run is created
                self._known_models.add(model)
            extra: dict[str, Any] = {}
            stored: list[ArtifactFile] = []
            run = None
            if spec.artifact_uri is None:
                run = self._create_managed_run(model, spec, files, extra, stored)
                run_id = run.info.run_id
                source = f"runs:/{run_id}/{mm.ARTIFACT_SUBDIR}"
            else:
                if list(files):
                    raise InvalidInput("files: give either artifact_uri or files to upload, not both", field="files")
                source = spec.artifact_uri
                run_id = _run_id_from_source(source)
                extra = {"metrics": spec.metrics, "params": spec.params}
            token = {"source": source, "run_id": run_id, "managed": spec.artifact_uri is None, "extra": extra,
                     "run": run}
            return StagedVersion(model=model, spec=spec, files=[], token=token, stored=stored)

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        """Register a staged version: one call, so the number MLflow assigns follows commit order."""
        token, spec = staged.token, staged.spec
        with self._op("create_version"):
            try:
                fields = {"stage": spec.stage, "approval": spec.approval, "lineage": spec.lineage,
                          "model_card": spec.model_card, "created_by": spec.created_by, **token["extra"]}
                tags = {**spec.tags, **mm.envelope_tags(fields), **mm.artifact_kind_tags(spec)}
                mv = self.client.create_model_version(
                    staged.model, token["source"], run_id=token["run_id"], tags=tags, description=spec.description,
                )
            except BaseException:
                self._known_models.discard(staged.model)  # deleted meanwhile? the next stage checks again
                self.discard_staged(staged)
                raise
            # A version that did not exist a moment ago holds no alias: skip reading the model.
            if token.get("run") is not None:
                return mm.to_version(self.name, mv, aliases=[], run=token["run"])
            return self._to_version(mv, {})

    def discard_staged(self, staged: StagedVersion) -> None:
        if staged.token and staged.token.get("managed") and staged.token.get("run_id"):
            with contextlib.suppress(Exception):
                self.client.delete_run(staged.token["run_id"])

    def _create_managed_run(
        self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload], extra: dict[str, Any],
        stored: list[ArtifactFile],
    ) -> Run:
        """The version's own run, finished; returned as written (what ``get_run`` would read back,
        without that round trip). Params MLflow cannot hold natively go to ``extra`` (envelope)."""
        from mlflow.entities import Dataset, DatasetInput, Metric, Param, Run, RunData, RunInfo, RunInputs, RunTag

        run = self.client.create_run(
            self._experiment(), tags={mm.MANAGED_RUN_TAG: "true", "mlflow.runName": f"{model}-registration"}
        )
        run_id = run.info.run_id
        self._artifact_roots[run_id] = run.info.artifact_uri
        try:
            native_params, extra_params = mm.native_params(spec.params)
            if extra_params:
                extra["params"] = extra_params
            now = int(time.time() * 1000)
            metrics = [Metric(k, v, now, 0) for k, v in spec.metrics.items()]
            params = [Param(k, v) for k, v in native_params.items()]
            for i in range(0, max(len(metrics), len(params)), 100):
                self.client.log_batch(run_id, metrics=metrics[i : i + 100], params=params[i : i + 100])
            datasets = [
                DatasetInput(Dataset(name=d.name or d.uri, digest=d.digest, source_type="external", source=d.uri))
                for d in spec.lineage.datasets
                if d.digest
            ]
            if datasets:
                with self._inputs_lock:
                    self.client.log_inputs(run_id, datasets=datasets)
            for upload in files:
                reader = HashingReader(upload.chunks)
                mlflow_store.write_stream(
                    run.info.artifact_uri, f"{mm.ARTIFACT_SUBDIR}/{upload.path}", reader, self.config.tracking_uri
                )
                verify_digest(upload, reader.sha256, reader.bytes_read, registry=self.name)
                stored.append(ArtifactFile(path=upload.path, size=reader.bytes_read, sha256=reader.sha256))
            end = int(time.time() * 1000)
            self.client.set_terminated(run_id, end_time=end)
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED")
            self.client.delete_run(run_id)
            raise
        info = run.info
        finished = RunInfo(run_id=run_id, experiment_id=info.experiment_id, user_id=info.user_id, status="FINISHED",
                           start_time=info.start_time, end_time=end, lifecycle_stage=info.lifecycle_stage,
                           artifact_uri=info.artifact_uri, run_name=info.run_name)
        tags = [RunTag(k, v) for k, v in run.data.tags.items()]
        return Run(finished, RunData(metrics=metrics, params=params, tags=tags), RunInputs(dataset_inputs=datasets))

    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion:
        mm.check_model_name(model)
        _check_version(version)
        mm.check_tags(patch.tags or {})
        with self._op("update_version"):
            mv = self.client.get_model_version(model, version)
            if patch.description is not None:
                self.client.update_model_version(model, version, description=patch.description)
            for key, value in (patch.tags or {}).items():
                self.client.set_model_version_tag(model, version, key, value)
            for key in patch.remove_tags:
                envelope.check_user_tags({key: ""}, "remove_tags")
                self.client.delete_model_version_tag(model, version, key)
            current = mm.read_envelope(mv.tags or {})
            fields: dict[str, Any] = {}
            if patch.metrics is not None:
                fields["metrics"] = {**current.get("metrics", {}), **patch.metrics}
            if patch.params is not None:
                fields["params"] = {**current.get("params", {}), **patch.params}
            if patch.lineage is not None:
                fields["lineage"] = patch.lineage
            if patch.model_card is not None:
                fields["model_card"] = patch.model_card
            self._write_envelope(model, version, mv.tags or {}, fields)
            return self.get_version(model, version)

    def _write_envelope(self, model: str, version: str, existing: Mapping[str, str], fields: Mapping[str, Any]) -> None:
        """Set the envelope keys of ``fields``, removing them (and stale chunks) when empty."""
        wanted = mm.envelope_tags(fields)
        for name in fields:
            base = envelope.FIELD_KEYS[name]
            for key in existing:
                if (key == base or key.startswith(base + ".")) and key not in wanted:
                    self.client.delete_model_version_tag(model, version, key)
        for key, value in wanted.items():
            if existing.get(key) != value:
                self.client.set_model_version_tag(model, version, key, value)

    def delete_version(self, model: str, version: str) -> None:
        mm.check_model_name(model)
        _check_version(version)
        with self._op("delete_version"):
            self.client.delete_model_version(model, version)

    # -- pointers and governance --------------------------------------------------------------
    def set_alias(self, model: str, alias: str, version: str) -> None:
        mm.check_model_name(model)
        mm.check_alias(alias)
        _check_version(version)
        with self._op("set_alias"):
            self.client.get_model_version(model, version)
            self.client.set_registered_model_alias(model, alias, version)

    def delete_alias(self, model: str, alias: str) -> None:
        mm.check_model_name(model)
        with self._op("delete_alias"):
            if alias not in (self.client.get_registered_model(model).aliases or {}):
                raise NotFound(f"alias: model {model!r} has no alias {alias!r}", field="alias")
            self.client.delete_registered_model_alias(model, alias)

    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion:
        return self._set_envelope_field(model, version, "set_approval", "approval", approval)

    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion:
        return self._set_envelope_field(model, version, "set_stage", "stage", Stage(stage))

    def _set_envelope_field(self, model: str, version: str, operation: str, field: str, value: Any) -> ModelVersion:
        mm.check_model_name(model)
        _check_version(version)
        with self._op(operation):
            mv = self.client.get_model_version(model, version)
            self._write_envelope(model, version, mv.tags or {}, {field: value})
            return self.get_version(model, version)

    # -- artifacts ----------------------------------------------------------------------------
    def _download_uri(self, model: str, version: str) -> str:
        # MlflowClient.get_model_version_download_uri first reads the registered model to refuse
        # prompts (one more round trip per artifact read); the registry client answers directly.
        registry = getattr(self.client, "_get_registry_client", None)
        if registry is not None:
            return str(registry().get_model_version_download_uri(model, version))
        return str(self.client.get_model_version_download_uri(model, version))

    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        mm.check_model_name(model)
        _check_version(version)
        return _MlflowFiles(self, model, version, source=None).list()

    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        mm.check_model_name(model)
        _check_version(version)
        return _MlflowFiles(self, model, version, source=None).read(path, chunk_size=chunk_size)

    def version_files(self, version: ModelVersion) -> VersionFiles:
        return _MlflowFiles(self, version.model, version.version, source=version.artifact.uri)

    def _artifact_location(self, model: str, version: str, source: str | None) -> str:
        """Where a version's bytes are, from its source when that says it without a request.

        MLflow's registry answers a download URI with the version's storage location, which is
        its source for every scheme but ``models:/`` (resolved at registration). A ``runs:/``
        source is the run's artifact location plus the path, known once the run was read."""
        from mlflow.utils.uri import append_to_uri_path

        scheme = source.split(":", 1)[0] if source and ":" in source else ""
        if scheme == "runs":
            run_id, _, path = source[len("runs:/") :].partition("/")  # type: ignore[index]
            root = self._artifact_roots.get(run_id)
            if root is not None:
                return str(append_to_uri_path(root, path)) if path else root
        elif source and scheme not in ("", "models"):
            return source
        return self._download_uri(model, version)

    def _logged_model_location(self, runs_uri: str) -> str | None:
        """MLflow 3 resolves ``runs:/<run>/<name>`` to the run's LoggedModel called ``name`` when
        the run holds no files under ``name`` (how ``log_model(name=...)`` stores a model)."""
        from mlflow.utils.uri import append_to_uri_path

        run_id, _, path = runs_uri[len("runs:/") :].partition("/")
        name, _, rest = path.partition("/")
        run = self._run(run_id)
        if run is None or not name:
            return None
        from mlflow.exceptions import MlflowException

        try:
            models = self.client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=f"name = '{_quote(name)}'", max_results=100)
        except MlflowException:  # a server from before LoggedModels (MLflow 2): the run's files are all there is
            return None
        match = next((m for m in models if m.source_run_id == run_id), None)
        if match is None:
            return None
        return str(append_to_uri_path(match.artifact_location, rest)) if rest else str(match.artifact_location)

    def _guarded(self, stream: Iterator[bytes], operation: str) -> Iterator[bytes]:
        with self._op(operation):
            yield from stream



def _check_page_token(token: str | None) -> None:
    """MLflow's tokens are base64 text; anything else is a caller's mistake, not an outage."""
    if token is not None and (not token.isascii() or len(token) > 4096):
        raise InvalidInput("page_token: not a page token this registry issued", field="page_token")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _check_version(version: str) -> None:
    if not str(version).isdigit():
        raise InvalidInput(f"version: MLflow versions are positive integers (got {version!r})", field="version")


def _run_id_from_source(source: str | None) -> str | None:
    if source and source.startswith("runs:/"):
        return source[len("runs:/") :].split("/", 1)[0] or None
    return None


class _MlflowFiles(VersionFiles):
    """A version's files, their location resolved once for the listing and every read."""

    adapter: MlflowAdapter

    def __init__(self, adapter: MlflowAdapter, model: str, version: str, *, source: str | None) -> None:
        self.adapter, self.model, self.number, self.source = adapter, model, version, source
        self._location: tuple[str, Any] | None = None
        self._runs_uri: str | None = None
        self._settled = False  # the location was checked against a listing (or relocated once)

    def _resolve(self) -> tuple[str, Any]:
        if self._location is None:
            uri = self.adapter._artifact_location(self.model, self.number, self.source)
            runs = self.source if self.source and self.source.startswith("runs:/") else uri
            self._runs_uri = runs if runs.startswith("runs:/") else None
            self._location = (uri, mlflow_store.resolve(uri, self.adapter.config.tracking_uri))
        return self._location

    def _relocate(self) -> bool:
        """Point at the LoggedModel a ``runs:/`` URI names, when the run holds no such files."""
        if self._settled or self._runs_uri is None:
            return False
        self._settled = True
        logged = self.adapter._logged_model_location(self._runs_uri)
        if logged is None:
            return False
        self._location = (logged, mlflow_store.resolve(logged, self.adapter.config.tracking_uri))
        return True

    def list(self, *, digests: bool = True) -> list[ArtifactFile]:
        tracking = self.adapter.config.tracking_uri
        with self.adapter._op("list_artifacts"):
            uri, repo = self._resolve()
            listed = mlflow_store.list_files(uri, tracking, repo=repo)
            if not listed and self._relocate():
                uri, repo = self._resolve()
                listed = mlflow_store.list_files(uri, tracking, repo=repo)
            self._settled = True
            files = []
            for path, size in listed:
                digest = None
                if digests:
                    hasher = hashlib.sha256()
                    for block in mlflow_store.open_read(uri, path, tracking, repo=repo):
                        hasher.update(block)
                    digest = hasher.hexdigest()
                files.append(ArtifactFile(path=path, size=size, sha256=digest))
            return files

    def read(self, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        tracking = self.adapter.config.tracking_uri
        with self.adapter._op("read_artifact"):
            uri, repo = self._resolve()
            try:
                stream = mlflow_store.open_read(uri, path, tracking, chunk_size, repo=repo)
            except Exception:
                if not self._relocate():
                    raise
                uri, repo = self._resolve()
                stream = mlflow_store.open_read(uri, path, tracking, chunk_size, repo=repo)
        return self.adapter._guarded(stream, "read_artifact")
