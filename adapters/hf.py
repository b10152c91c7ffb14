"""Hugging Face Hub backend over ``huggingface_hub.HfApi``.

How models, versions, aliases and state are laid out on the Hub is documented (and translated)
in :mod:`mapping.hf`; this module only does I/O.

Two client behaviours shape the code:

* With ``hf_xet`` installed, huggingface_hub sends LFS files through Xet and never falls back
  to the LFS batch API, so a server without Xet (a self-hosted Hub, the emulator) cannot receive
  them. The client does fall back for ``io.BufferedIOBase`` payloads, so every upload here is a
  file object: Xet is off for this adapter's own calls and nobody else's process-wide settings
  change (``HF_HUB_DISABLE_XET`` is left alone).
* Module-level helpers (``ModelCard.load``, ``metadata_update``) ignore ``HfApi(endpoint=)``;
  this adapter uses only ``HfApi`` methods and URLs built from its own endpoint.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from adapters.base import (
    DEFAULT_CHUNK,
    ArtifactUpload,
    Capabilities,
    Health,
    RegistryAdapter,
    StagedVersion,
    verify_digest,
)
from mapping import hf as mh
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

_XET_FALLBACK_WARNING = "Uploading files as a binary IO buffer is not supported by Xet Storage"
_quiet = threading.local()


class _QuietXetFallback(logging.Filter):
    """Drop the client's "falling back to HTTP upload" warning for this adapter's own uploads only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (getattr(_quiet, "on", False) and _XET_FALLBACK_WARNING in record.getMessage())


class HfSettings(BaseModel):
    """``endpoint``: the Hub (or a self-hosted/emulated one); ``token``: a write token.

    ``namespaces`` bounds ``list_models`` (the public Hub has millions of repos): the token's
    user when empty.
    """

    model_config = ConfigDict(extra="forbid")

    endpoint: str = "https://huggingface.co"
    token: str | None = None
    namespaces: list[str] = Field(default_factory=list)
    private: bool = False
    version_tag_prefix: str = mh.DEFAULT_TAG_PREFIX
    alias_branch_prefix: str = mh.DEFAULT_ALIAS_PREFIX
    state_branch: str = mh.DEFAULT_STATE_BRANCH
    spool_dir: str | None = None
    state_retries: int = 8


class HuggingFaceAdapter(RegistryAdapter):
    kind = RegistryKind.HF
    settings_model = HfSettings

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, settings)
        self.config = HfSettings.model_validate(self.settings)
        self.endpoint = self.config.endpoint.rstrip("/")
        self._api: Any = None
        self._user: str | None = None

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def api(self) -> Any:
        if self._api is None:
            from huggingface_hub import HfApi
            from huggingface_hub import _commit_api as commit_api

            commit_api.logger.addFilter(_QuietXetFallback())
            self._api = HfApi(endpoint=self.endpoint, token=self.config.token,
                              library_name="model-registry-gateway")
        return self._api

    def _user_name(self) -> str:
        if self._user is None:
            self._user = str(self.api.whoami()["name"])
        return self._user


    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        """Map huggingface_hub's exceptions (chosen by X-Error-Code and status) onto the taxonomy."""
        import httpx2
        from huggingface_hub import errors as hf

        ctx: dict[str, Any] = {"registry": self.name, "operation": operation}
        message = str(exc).strip().splitlines()
        text = " ".join(line for line in message if line)[:500] or type(exc).__name__
        if isinstance(exc, hf.RepositoryNotFoundError):
            return NotFound(f"model not found: {text}", native_code="RepoNotFound", field="name", **ctx)
        if isinstance(exc, hf.RevisionNotFoundError):
            return NotFound(f"revision not found: {text}", native_code="RevisionNotFound", field="version", **ctx)
        if isinstance(exc, hf.EntryNotFoundError):
            return NotFound(f"file not found: {text}", native_code="EntryNotFound", field="path", **ctx)
        if isinstance(exc, (hf.GatedRepoError, hf.DisabledRepoError)):
            return PermissionDenied(text, native_code=type(exc).__name__, **ctx)
        if isinstance(exc, hf.HFValidationError):
            return InvalidInput(text, native_code="HFValidationError", **ctx)
        if isinstance(exc, hf.HfHubHTTPError) and exc.response is not None:
            status = exc.response.status_code
            code = exc.response.headers.get("X-Error-Code") or str(status)
            if status == 429:
                retry_after = exc.response.headers.get("Retry-After")
                return RateLimited(text, native_code=code, retry_after=float(retry_after) if retry_after and
                                   retry_after.replace(".", "", 1).isdigit() else None, **ctx)
            cls: type[RegistryError] = {
                400: InvalidInput, 401: PermissionDenied, 403: PermissionDenied, 404: NotFound,
                409: AlreadyExists, 412: Conflict, 413: InvalidInput, 422: InvalidInput, 501: Unsupported,
            }.get(status, Unavailable if status >= 500 else InvalidInput)
            return cls(text, native_code=code, **ctx)
        if isinstance(exc, (httpx2.TransportError, hf.OfflineModeIsEnabled, ConnectionError, TimeoutError)):
            return Unavailable(f"Hugging Face Hub at {self.endpoint} is unreachable: {text}", **ctx)
        if isinstance(exc, ValueError):
            # Client-side refusals: invalid card metadata, malformed server answers, bad arguments.
            return InvalidInput(text, native_code="ValueError", **ctx)
        return Unavailable(f"{type(exc).__name__}: {text}", **ctx)

    def _get(self, model: str, revision: str, path: str) -> tuple[bytes | None, str | None]:
        """(content or None when the file is absent, commit the revision resolved to)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.errors import EntryNotFoundError
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(model, path, revision=revision, endpoint=self.endpoint)
        response = get_session().get(url, headers=build_hf_headers(token=self.config.token),
                                     follow_redirects=True)
        commit = response.headers.get("X-Repo-Commit")
        try:
            hf_raise_for_status(response)
        except EntryNotFoundError:
            return None, commit
        return response.content, commit

    def _refs(self, model: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
        """(version -> commit, alias -> commit, branch -> commit) from one refs call."""
        refs = self.api.list_repo_refs(model)
        versions: dict[str, str] = {}
        for tag in refs.tags:
            version = mh.version_from_tag(tag.name, self.config.version_tag_prefix)
            if version is not None:
                versions[version] = tag.target_commit
        branches = {b.name: b.target_commit for b in refs.branches}
        aliases = {}
        for branch, commit in branches.items():
            alias = mh.alias_from_branch(branch, self.config.alias_branch_prefix)
            if alias is not None:
                aliases[alias] = commit
        return versions, aliases, branches

    def _state(self, model: str, branches: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
        head = branches.get(self.config.state_branch)
        if head is None:
            return mh.empty_state(), None
        raw, _ = self._get(model, head, mh.STATE_FILE)
        return mh.parse_state(raw), head

    def _update_state(self, model: str, mutate: Callable[[dict[str, Any]], None], message: str) -> None:
        """Read-modify-write of ``registry.json`` with ``parentCommit``: a concurrent writer makes
        the Hub refuse the commit (412) and we re-read, so no update is ever lost."""
        from huggingface_hub import CommitOperationAdd
        from huggingface_hub.errors import HfHubHTTPError

        branch = self.config.state_branch
        for attempt in range(self.config.state_retries):
            _, _, branches = self._refs(model)
            if branch not in branches:
                self.api.create_branch(model, branch=branch, revision=branches.get("main"), exist_ok=True)
                continue
            state, head = self._state(model, branches)
            mutate(state)
            try:
                self.api.create_commit(
                    model,
                    operations=[CommitOperationAdd(mh.STATE_FILE, io.BytesIO(mh.dump_state(state)))],
                    commit_message=message,
                    revision=branch,
                    parent_commit=head,
                )
                return
            except HfHubHTTPError as exc:
                if exc.response is None or exc.response.status_code not in (409, 412):
                    raise
                time.sleep(min(0.05 * 2**attempt, 1.0))
        raise Conflict(f"registry state of {model!r} kept changing; gave up after {self.config.state_retries} tries",
                       registry=self.name)

    # -- description ------------------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            kind=self.kind,
            aliases=True,
            aliases_native=True,
            approval_native=False,
            stage_native=False,
            version_id_assignable=True,
            checksums=True,
            staged_uploads=True,
            server_side_copy=False,
            search_filters=["name_prefix", "tags"],
            reserved_aliases=[],
            label_charset="aliases: [A-Za-z0-9_-], <= 64 (branch names under " + self.config.alias_branch_prefix + ")",
            default_namespace=self._default_namespace(),
            fidelity=dict(mh.FIDELITY),
        )

    def _default_namespace(self) -> str | None:
        if self.config.namespaces:
            return self.config.namespaces[0]
        if not self.config.token:
            return None
        try:
            return self._user_name()
        except Exception:  # noqa: BLE001 - capabilities stay readable when the Hub is down
            return None

    def health(self) -> Health:
        started = time.perf_counter()
        try:
            with self._op("health"):
                if self.config.token:
                    self._user = str(self.api.whoami()["name"])
                else:
                    next(iter(self.api.list_models(limit=1)), None)
            ok, message = True, None
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            ok, message = False, str(exc)[:200]
        return Health(ok=ok, latency_ms=round((time.perf_counter() - started) * 1000, 2), message=message)

    # -- models -----------------------------------------------------------------------------
    def _model(self, model: str, info: Any | None = None) -> Model:
        info = info or self.api.model_info(model)
        versions, aliases, branches = self._refs(model)
        state, _ = self._state(model, branches)
        by_commit = {commit: version for version, commit in versions.items()}
        alias_versions = {a: by_commit[c] for a, c in aliases.items() if c in by_commit}
        latest = max(versions, key=_version_order) if versions else None
        return mh.to_model(self.name, info, state, alias_versions, latest)

    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]:
        query = query or ModelQuery()
        prefix = query.name_prefix or ""
        owner = prefix.split("/", 1)[0] if "/" in prefix else None
        authors = [owner] if owner else (self.config.namespaces or [self._user_name()])
        ids: set[str] = set()
        for author in authors:
            search = prefix.split("/", 1)[1] if "/" in prefix else (prefix or None)
            ids.update(m.id for m in self.api.list_models(author=author, search=search))
        ordered = sorted(i for i in ids if i.startswith(prefix))
        start = int(page_token or 0)
        size = max(1, page_size or 100)
        items: list[Model] = []
        position = start
        while position < len(ordered) and len(items) < size:
            try:
                model = self._model(ordered[position])
            except Exception as exc:  # noqa: BLE001 - deleted between listing and reading
                if not isinstance(self._translate(exc, "list_models"), NotFound):
                    raise
                position += 1
                continue
            position += 1
            if all(model.tags.get(k) == v for k, v in query.tags.items()):
                items.append(model)
        return Page(items=items, next_token=str(position) if position < len(ordered) else None)

    def get_model(self, name: str) -> Model:
        mh.check_model_name(name)
        return self._model(name)

    def create_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> Model:
        mh.check_model_name(name)
        mh.check_tags(tags or {})
        self.api.create_repo(name, private=self.config.private, exist_ok=False)
        if description or tags:
            def write(state: dict[str, Any]) -> None:
                state["model"] = {"description": description, "tags": dict(tags or {})}

            self._update_state(name, write, "mrg: create model")
        return self._model(name)

    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model:
        mh.check_model_name(name)
        mh.check_tags(tags or {})
        removed = list(remove_tags)
        self.api.model_info(name)  # NotFound before touching state

        def write(state: dict[str, Any]) -> None:
            model = state["model"]
            if description is not None:
                model["description"] = description
            merged = {**(model.get("tags") or {}), **(tags or {})}
            for key in removed:
                merged.pop(key, None)
            model["tags"] = merged

        self._update_state(name, write, "mrg: update model")
        return self._model(name)

    def delete_model(self, name: str) -> None:
        mh.check_model_name(name)
        self.api.delete_repo(name)

    # -- versions ---------------------------------------------------------------------------
    def _version(
        self,
        model: str,
        version: str,
        commit: str,
        state: Mapping[str, Any],
        aliases_by_commit: Mapping[str, list[str]],
    ) -> ModelVersion:
        tag = mh.tag_for(version, self.config.version_tag_prefix)
        raw, _ = self._get(model, commit, mh.SNAPSHOT_FILE)
        snap = mh.parse_snapshot(raw)
        if snap is not None and snap.get("version") != version:
            snap = None  # a Hub user tagged a later commit that still carries an older version's snapshot
        card_text: str | None = None
        commit_date: datetime | None = None
        if snap is None:
            card, _ = self._get(model, commit, mh.CARD_FILE)
            card_text = card.decode("utf-8", "replace") if card is not None else None
            commit_date = self.api.model_info(model, revision=commit).last_modified
            files = self._tree_files(model, commit, {})
        else:
            files = [ArtifactFile.model_validate(f) for f in snap.get("files") or []]
        return mh.to_version(
            self.name, model, version, commit=commit, tag=tag, snapshot_data=snap, card_text=card_text,
            overlay=state["versions"].get(version), aliases=aliases_by_commit.get(commit, []),
            commit_date=commit_date, commit_author=None, files=files, endpoint=self.endpoint,
        )

    def _tree_files(self, model: str, commit: str, known: Mapping[str, str]) -> list[ArtifactFile]:
        """Files of a version (registry files excluded), sha256 from LFS or by reading small files."""
        from huggingface_hub.hf_api import RepoFile

        out = []
        for entry in self.api.list_repo_tree(model, revision=commit, recursive=True):
            if not isinstance(entry, RepoFile) or entry.path in (*mh.RESERVED_PATHS, mh.CARD_FILE):
                continue
            digest = entry.lfs.sha256 if entry.lfs else known.get(entry.path)
            if digest is None:
                hasher = hashlib.sha256()
                for block in self._stream(model, commit, entry.path, DEFAULT_CHUNK):
                    hasher.update(block)
                digest = hasher.hexdigest()
            out.append(ArtifactFile(path=entry.path, size=entry.size, sha256=digest))
        return out

    def _context(self, model: str) -> tuple[dict[str, str], dict[str, list[str]], dict[str, Any]]:
        versions, aliases, branches = self._refs(model)
        by_commit: dict[str, list[str]] = {}
        for alias, commit in aliases.items():
            by_commit.setdefault(commit, []).append(alias)
        state, _ = self._state(model, branches)
        return versions, by_commit, state

    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        mh.check_model_name(model)
        versions, aliases, state = self._context(model)
        ordered = sorted(versions, key=_version_order)
        start = int(page_token or 0)
        size = max(1, page_size or 100)
        items = [self._version(model, v, versions[v], state, aliases) for v in ordered[start : start + size]]
        items.sort(key=lambda v: (v.ordinal, _version_order(v.version)))
        return Page(items=items, next_token=str(start + size) if start + size < len(ordered) else None)

    def get_version(self, model: str, version: str) -> ModelVersion:
        mh.check_model_name(model)
        versions, aliases, state = self._context(model)
        if version not in versions:
            raise NotFound(f"version: model {model!r} has no version {version!r}", field="version")
        return self._version(model, version, versions[version], state, aliases)

    def create_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> ModelVersion:
        staged = self.stage_version(model, spec, files)
        try:
            return self.commit_version(staged)
        except BaseException:
            self.discard_staged(staged)
            raise

    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Spool, verify and upload the LFS payloads now; the commit and tag come in
        ``commit_version``, so uploads of many versions can overlap while versions stay ordered."""
        from huggingface_hub import CommitOperationAdd

        mh.check_model_name(model)
        mh.check_tags(spec.tags)
        if spec.artifact_uri is not None:
            raise Unsupported(
                "artifact_uri: a Hugging Face version stores its files in the repo commit; pass them as uploads",
                field="artifact_uri",
            )
        if spec.version is not None:
            mh.check_version_id(spec.version)
        self.api.model_info(model)  # NotFound before anything is spooled
        spool = _Spool(Path(tempfile.mkdtemp(prefix="mrg-hf-", dir=self.config.spool_dir)))
        try:
            spool.files = self._spool(files, spool.root, with_card=spec.model_card is not None)
            spool.operations = [
                CommitOperationAdd(entry.path, spool.handles.enter_context(open(local, "rb")))  # noqa: SIM115
                for entry, local in spool.files
            ]
            _quiet.on = True
            try:
                self.api.preupload_lfs_files(model, additions=spool.operations)
            finally:
                _quiet.on = False
        except BaseException:
            spool.close()
            raise
        return StagedVersion(model=model, spec=spec, files=[], token=spool, stored=[a for a, _ in spool.files])

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        """One commit on ``main`` with exactly the version's files, then its immutable tag."""
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        model, spec, spool = staged.model, staged.spec, staged.token
        assert isinstance(spool, _Spool), "commit_version needs a StagedVersion from this adapter's stage_version"
        try:
            info = self.api.model_info(model)
            versions, _, branches = self._refs(model)
            numbers = [int(v) for v in versions if v.isdigit()]
            version = spec.version or str(max(numbers, default=0) + 1)
            if version in versions:
                raise AlreadyExists(f"version: model {model!r} already has version {version!r}", field="version")
            ordinal = int(version) if version.isdigit() else max(numbers, default=0) + 1
            snapshot = mh.snapshot(version, ordinal, spec, [a for a, _ in spool.files], self._user_name(),
                                   datetime.now(UTC))
            meta = mh.card_metadata(model, spec, version)
            new_paths = {a.path for a, _ in spool.files} | {mh.SNAPSHOT_FILE, mh.CARD_FILE}
            head = branches.get("main", info.sha)
            operations: list[Any] = [
                CommitOperationDelete(path) for path in self.api.list_repo_files(model, revision=head)
                if path not in new_paths and path != ".gitattributes"
            ]
            operations += spool.operations
            operations.append(CommitOperationAdd(mh.SNAPSHOT_FILE, io.BytesIO(snapshot)))
            card = mh.render_card(meta, spec.model_card).encode()
            operations.append(CommitOperationAdd(mh.CARD_FILE, io.BytesIO(card)))
            _quiet.on = True
            try:
                commit = self.api.create_commit(
                    model, operations=operations, commit_message=f"mrg: version {version}",
                    commit_description=spec.description or "", parent_commit=head,
                )
            finally:
                _quiet.on = False
            self.api.create_tag(model, tag=mh.tag_for(version, self.config.version_tag_prefix),
                                revision=commit.oid, tag_message=f"version {version}")
        finally:
            spool.close()
        return self.get_version(model, version)

    def discard_staged(self, staged: StagedVersion) -> None:
        """Drop the spool; uploaded LFS objects no commit references are the Hub's garbage to collect."""
        if isinstance(staged.token, _Spool):
            staged.token.close()

    def _spool(
        self, files: Iterable[ArtifactUpload], spool: Path, *, with_card: bool
    ) -> list[tuple[ArtifactFile, Path]]:
        """Write uploads to disk, hashing as they stream, and refuse corrupt ones before any
        network I/O (the client needs seekable files; a bad digest must leave nothing behind)."""
        out: list[tuple[ArtifactFile, Path]] = []
        seen: set[str] = set()
        for index, upload in enumerate(files):
            path = mh.check_artifact_path(upload.path, with_card=with_card)
            if path in seen:
                raise InvalidInput(f"files: {path!r} is given twice", field="files")
            seen.add(path)
            local = spool / str(index)
            digest = hashlib.sha256()
            size = 0
            with open(local, "wb") as fh:
                for chunk in upload.chunks:
                    fh.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            verify_digest(upload, digest.hexdigest(), size, registry=self.name)
            out.append((ArtifactFile(path=path, size=size, sha256=digest.hexdigest()), local))
        return out

    def _edit_version(self, model: str, version: str, message: str,
                      change: Callable[[ModelVersion], dict[str, Any]]) -> ModelVersion:
        current = self.get_version(model, version)
        fields = change(current)

        def write(state: dict[str, Any]) -> None:
            entry = state["versions"].setdefault(version, {})
            entry.update(fields)
            entry["updated_at"] = datetime.now(UTC).isoformat()

        self._update_state(model, write, message)
        updated = self.get_version(model, version)
        self._mirror_card(model, updated)
        return updated

    def _mirror_card(self, model: str, version: ModelVersion) -> None:
        """Keep ``main``'s card showing the current state of the version ``main`` carries.

        Best effort: registry state is authoritative, so a concurrent push to ``main`` (412) or a
        user's own card there simply leaves the mirror for the next edit.
        """
        from huggingface_hub import CommitOperationAdd
        from huggingface_hub.errors import HfHubHTTPError

        _, _, branches = self._refs(model)
        head = branches.get("main")
        raw, _ = self._get(model, head, mh.SNAPSHOT_FILE) if head else (None, None)
        snap = mh.parse_snapshot(raw)
        if head is None or snap is None or snap.get("version") != version.version:
            return
        current, _ = self._get(model, head, mh.CARD_FILE)
        card = mh.render_card(mh.card_metadata(model, version, version.version), version.model_card).encode()
        if current == card:
            return
        try:
            self.api.create_commit(model, operations=[CommitOperationAdd(mh.CARD_FILE, io.BytesIO(card))],
                                   commit_message=f"mrg: card of version {version.version}", parent_commit=head)
        except HfHubHTTPError as exc:
            if exc.response is None or exc.response.status_code != 412:
                raise

    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion:
        mh.check_model_name(model)
        mh.check_tags(patch.tags or {})
        mh.check_tags({k: "" for k in patch.remove_tags}, "remove_tags")

        def change(current: ModelVersion) -> dict[str, Any]:
            fields: dict[str, Any] = {}
            if patch.description is not None:
                fields["description"] = patch.description
            if patch.tags is not None or patch.remove_tags:
                tags = {**current.tags, **(patch.tags or {})}
                for key in patch.remove_tags:
                    tags.pop(key, None)
                fields["tags"] = tags
            if patch.metrics is not None:
                fields["metrics"] = {**current.metrics, **patch.metrics}
            if patch.params is not None:
                fields["params"] = {**current.params, **patch.params}
            if patch.lineage is not None:
                fields["lineage"] = patch.lineage.model_dump(mode="json")
            if patch.model_card is not None:
                fields["model_card"] = patch.model_card
            return fields

        return self._edit_version(model, version, f"mrg: update version {version}", change)

    def delete_version(self, model: str, version: str) -> None:
        mh.check_model_name(model)
        versions, aliases, _ = self._refs(model)
        if version not in versions:
            raise NotFound(f"version: model {model!r} has no version {version!r}", field="version")
        self.api.delete_tag(model, tag=mh.tag_for(version, self.config.version_tag_prefix))
        for alias, commit in aliases.items():
            if commit == versions[version]:
                self.api.delete_branch(model, branch=mh.alias_branch(alias, self.config.alias_branch_prefix))

        def forget(state: dict[str, Any]) -> None:
            state["versions"].pop(version, None)

        self._update_state(model, forget, f"mrg: delete version {version}")

    # -- pointers and governance --------------------------------------------------------------
    def set_alias(self, model: str, alias: str, version: str) -> None:
        mh.check_model_name(model)
        mh.check_alias(alias)
        versions, aliases, _ = self._refs(model)
        if version not in versions:
            raise NotFound(f"version: model {model!r} has no version {version!r}", field="version")
        branch = mh.alias_branch(alias, self.config.alias_branch_prefix)
        if aliases.get(alias) == versions[version]:
            return
        if alias in aliases:
            # The Hub cannot re-point a branch in one call: delete + create (a brief gap, never two targets).
            self.api.delete_branch(model, branch=branch)
        self.api.create_branch(model, branch=branch, revision=versions[version])

    def delete_alias(self, model: str, alias: str) -> None:
        mh.check_model_name(model)
        mh.check_alias(alias)
        _, aliases, _ = self._refs(model)
        if alias not in aliases:
            raise NotFound(f"alias: model {model!r} has no alias {alias!r}", field="alias")
        self.api.delete_branch(model, branch=mh.alias_branch(alias, self.config.alias_branch_prefix))

    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion:
        mh.check_model_name(model)
        return self._edit_version(model, version, f"mrg: approval of version {version}: {approval.status.value}",
                                  lambda _: {"approval": approval.model_dump(mode="json")})

    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion:
        mh.check_model_name(model)
        stage = Stage(stage)
        return self._edit_version(model, version, f"mrg: stage of version {version}: {stage.value}",
                                  lambda _: {"stage": stage.value})

    # -- artifacts ----------------------------------------------------------------------------
    def _commit_of(self, model: str, version: str) -> str:
        versions, _, _ = self._refs(model)
        if version not in versions:
            raise NotFound(f"version: model {model!r} has no version {version!r}", field="version")
        return versions[version]

    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        mh.check_model_name(model)
        commit = self._commit_of(model, version)
        raw, _ = self._get(model, commit, mh.SNAPSHOT_FILE)
        snap = mh.parse_snapshot(raw) or {}
        known = {f["path"]: f["sha256"] for f in snap.get("files") or [] if f.get("sha256")}
        return self._tree_files(model, commit, known)

    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        mh.check_model_name(model)
        with self._op("read_artifact"):
            commit = self._commit_of(model, version)
            stream = self._stream(model, commit, path, chunk_size)
            first = next(stream, None)  # open now: a missing file fails here, not mid-iteration
        return self._guarded(first, stream)

    def _guarded(self, first: bytes | None, stream: Iterator[bytes]) -> Iterator[bytes]:
        with self._op("read_artifact"):
            if first is not None:
                yield first
            yield from stream

    def _stream(self, model: str, revision: str, path: str, chunk_size: int) -> Iterator[bytes]:
        """GET /resolve, following the CDN redirect (the client drops Authorization off-origin)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

        url = hf_hub_url(model, path, revision=revision, endpoint=self.endpoint)
        with get_session().stream("GET", url, headers=build_hf_headers(token=self.config.token),
                                  follow_redirects=True) as response:
            hf_raise_for_status(response)
            yield from response.iter_bytes(chunk_size=chunk_size)


class _Spool:
    """Local copies of a staged version's files, open for the client until the commit is sent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.handles = ExitStack()
        self.files: list[tuple[ArtifactFile, Path]] = []
        self.operations: list[Any] = []

    def close(self) -> None:
        self.handles.close()
        shutil.rmtree(self.root, ignore_errors=True)


def _version_order(version: str) -> tuple[int, str]:
    digits = ""
    for char in version:
        if not char.isdigit():
            break
        digits += char
    return (int(digits) if digits else -1, version)




