"""The adapter contract: what every registry backend implements, and what it declares.

A small abstract base (fsspec style): adapters implement the primitive operations over their
official SDK; helpers built on the primitives (paging iterators, alias lookup, lineage) live
here once. Each adapter publishes a typed ``Capabilities`` (OpenDAL/rclone style) so callers
and the conformance suite gate behaviour on declared features instead of on backend names.

The API is synchronous: the SDKs are, and the gateway runs adapter calls in a bounded thread
pool per registry.
"""

from __future__ import annotations

import functools
import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from mapping.errors import (
    AlreadyExists,
    Conflict,
    ErrorKind,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    RegistryError,
    Unavailable,
    Unsupported,
)
from mapping.fidelity import Placement
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

__all__ = [
    "AlreadyExists",
    "ArtifactUpload",
    "Capabilities",
    "Conflict",
    "ErrorKind",
    "Health",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "RegistryAdapter",
    "RegistryError",
    "Unavailable",
    "Unsupported",
]

DEFAULT_CHUNK = 1024 * 1024


class Capabilities(BaseModel):
    """What a backend can do, published at ``/v1/registries/{r}`` and used to gate tests."""

    model_config = ConfigDict(extra="forbid")

    kind: RegistryKind
    aliases: bool = True
    aliases_native: bool = False
    approval_native: bool = False
    stage_native: bool = False
    per_version_tags: bool = True
    model_tags: bool = True
    delete_model: bool = True
    delete_version: bool = True
    empty_models: bool = True
    version_id_assignable: bool = False
    lineage_parents: bool = True
    lineage_datasets: bool = True
    model_card: bool = True
    metrics: bool = True
    params: bool = True
    checksums: bool = True
    artifact_upload: bool = True
    server_side_copy: bool = False
    # ``stage_version`` stores the files and ``commit_version`` writes the version's metadata from
    # ``staged.spec`` as it is then: a copier may fill in what it learns while the bytes flow (the
    # digest of a source that stores none) between the two calls.
    staged_uploads: bool = False
    max_tags: int | None = None
    tag_key_max: int | None = None
    tag_value_max: int | None = None
    label_charset: str | None = None
    list_page_max: int | None = None
    search_filters: list[str] = Field(default_factory=list)
    reserved_aliases: list[str] = Field(default_factory=list)
    # Backends whose model names are "<namespace>/<name>" (Hugging Face): the namespace a plain
    # name is placed under when copying or piloting into this registry.
    default_namespace: str | None = None
    fidelity: dict[str, Placement] = Field(default_factory=dict)


class Health(BaseModel):
    ok: bool
    latency_ms: float | None = None
    message: str | None = None


@dataclass
class ArtifactUpload:
    """One file to store with a new version, streamed in chunks.

    ``chunks`` is consumed once; ``sha256`` (if the caller knows it) is checked against the
    digest computed while streaming, and a mismatch fails the version instead of storing
    corrupt bytes.
    """

    path: str
    chunks: Iterable[bytes]
    size: int | None = None
    sha256: str | None = None

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> ArtifactUpload:
        return cls(path=path, chunks=[data], size=len(data), sha256=hashlib.sha256(data).hexdigest())

    @classmethod
    def from_file(cls, path: str, local_path: str, chunk_size: int = DEFAULT_CHUNK) -> ArtifactUpload:
        def read() -> Iterator[bytes]:
            with open(local_path, "rb") as fh:
                while block := fh.read(chunk_size):
                    yield block

        import os

        return cls(path=path, chunks=read(), size=os.path.getsize(local_path))


class HashingReader(io.RawIOBase):
    """A file-like view over an iterator of chunks that hashes what it hands out.

    SDK upload calls want file objects; pipelines produce chunks. This bridges the two without
    buffering the whole artifact, and yields the sha256 and byte count once read to the end.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._iter = iter(chunks)
        self._buffer = b""
        self._hash = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        view = memoryview(b)
        while not self._buffer:
            try:
                self._buffer = next(self._iter)
            except StopIteration:
                return 0
        n = min(len(view), len(self._buffer))
        view[:n] = self._buffer[:n]
        self._hash.update(self._buffer[:n])
        self._buffer = self._buffer[n:]
        self.bytes_read += n
        return n

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


def verify_digest(upload: ArtifactUpload, actual_sha256: str, actual_size: int, *, registry: str) -> None:
    if upload.sha256 and upload.sha256 != actual_sha256:
        raise InvalidInput(
            f"artifact {upload.path!r}: sha256 {actual_sha256} does not match the expected {upload.sha256}",
            field="artifact.sha256",
            registry=registry,
        )
    if upload.size is not None and upload.size != actual_size:
        raise InvalidInput(
            f"artifact {upload.path!r}: {actual_size} bytes received, {upload.size} expected",
            field="artifact.size",
            registry=registry,
        )


# The contract's operations, wrapped by ``RegistryAdapter.__init_subclass__``. For
# ``read_artifact`` this covers what happens before the first byte; adapters guard the stream.
OPERATIONS: tuple[str, ...] = (
    "list_models", "get_model", "create_model", "update_model", "delete_model", "list_versions", "get_version",
    "create_version", "stage_version", "commit_version", "update_version", "delete_version", "set_alias",
    "delete_alias", "set_approval", "set_stage", "list_artifacts", "read_artifact",
)


def operation(fn: Any) -> Any:
    """Run ``fn`` inside the adapter's ``_op`` under its own name."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._op(fn.__name__):
            return fn(self, *args, **kwargs)

    wrapper._mrg_operation = True  # type: ignore[attr-defined]
    return wrapper


class VersionFiles:
    """One version's files: list them, then stream each. This default calls the contract."""

    def __init__(self, adapter: RegistryAdapter, version: ModelVersion) -> None:
        self.adapter = adapter
        self.version = version

    def list(self, *, digests: bool = True) -> list[ArtifactFile]:
        """The files with sizes, and sha256 where the store keeps one or ``digests`` asks for it
        (computing one reads the file; a copier that hashes the bytes as they flow passes False)."""
        return self.adapter.list_artifacts(self.version.model, self.version.version)

    def read(self, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        return self.adapter.read_artifact(self.version.model, self.version.version, path, chunk_size=chunk_size)


@dataclass
class StagedVersion:
    """A version whose files are stored but which is not registered yet (see ``stage_version``)."""

    model: str
    spec: VersionSpec
    files: list[ArtifactUpload]
    token: Any = None
    # The files as stored, sha256 computed while storing them: filled by adapters that declare
    # ``staged_uploads``, so a copier learns the digest of a source that keeps none without
    # reading its bytes a second time.
    stored: list[ArtifactFile] | None = None


class RegistryAdapter(ABC):
    """One configured registry, driven through its official SDK.

    Constructors must not import the SDK (start-up stays fast): import it on first use.
    Every method raises only :class:`RegistryError` subclasses; adapters map their SDK's
    exceptions explicitly.
    """

    kind: ClassVar[RegistryKind]
    settings_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, name: str, settings: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.settings = dict(settings or {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Run every contract operation an adapter defines inside ``_op``: whatever it raises,
        even an early validation error, reaches callers in the taxonomy with registry and operation."""
        super().__init_subclass__(**kwargs)
        for name in OPERATIONS:
            fn = cls.__dict__.get(name)
            if fn is not None and not getattr(fn, "_mrg_operation", False):
                setattr(cls, name, operation(fn))

    @contextmanager
    def _op(self, operation: str) -> Iterator[None]:
        try:
            yield
        except RegistryError as err:
            raise err.with_context(registry=self.name, operation=operation) from None
        except Exception as exc:  # noqa: BLE001 - translated into the taxonomy by the adapter
            raise self._translate(exc, operation) from exc

    def _translate(self, exc: Exception, operation: str) -> RegistryError:
        """Map an SDK exception onto the taxonomy; every adapter overrides this with explicit tables."""
        return Unavailable(f"{type(exc).__name__}: {exc}", registry=self.name, operation=operation)

    # -- description --------------------------------------------------------------------
    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abstractmethod
    def health(self) -> Health: ...

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and connections."""

    # -- models ---------------------------------------------------------------------------
    @abstractmethod
    def list_models(
        self, query: ModelQuery | None = None, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Model]: ...

    @abstractmethod
    def get_model(self, name: str) -> Model: ...

    @abstractmethod
    def create_model(self, name: str, *, description: str | None = None, tags: Mapping[str, str] | None = None) -> Model: ...

    @abstractmethod
    def update_model(
        self,
        name: str,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        remove_tags: Iterable[str] = (),
    ) -> Model: ...

    @abstractmethod
    def delete_model(self, name: str) -> None:
        """Delete the model and every version of it."""

    # -- versions -------------------------------------------------------------------------
    @abstractmethod
    def list_versions(
        self, model: str, *, page_size: int | None = None, page_token: str | None = None
    ) -> Page[ModelVersion]:
        """Versions in ascending ``ordinal`` (creation) order."""

    @abstractmethod
    def get_version(self, model: str, version: str) -> ModelVersion: ...

    @abstractmethod
    def create_version(
        self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()
    ) -> ModelVersion:
        """Create a version of an existing model, uploading ``files`` as its artifact.

        Stage and approval in ``spec`` are applied as part of creation. A version with a
        requested id on a backend that assigns ids raises Unsupported.
        """

    @abstractmethod
    def update_version(self, model: str, version: str, patch: VersionPatch) -> ModelVersion: ...

    @abstractmethod
    def delete_version(self, model: str, version: str) -> None: ...

    # -- pointers and governance ----------------------------------------------------------
    @abstractmethod
    def set_alias(self, model: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version``, moving it if another version held it."""

    @abstractmethod
    def delete_alias(self, model: str, alias: str) -> None: ...

    @abstractmethod
    def set_approval(self, model: str, version: str, approval: Approval) -> ModelVersion: ...

    @abstractmethod
    def set_stage(self, model: str, version: str, stage: Stage) -> ModelVersion: ...

    # -- artifacts ------------------------------------------------------------------------
    @abstractmethod
    def list_artifacts(self, model: str, version: str) -> list[ArtifactFile]:
        """Files of a version's artifact with sizes and sha256 (computed if the store has none)."""

    @abstractmethod
    def read_artifact(self, model: str, version: str, path: str, *, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        """Stream one file of a version's artifact; never loads it whole."""

    def version_files(self, version: ModelVersion) -> VersionFiles:
        """The files of a version the caller has already read (from a listing, say).

        ``list_artifacts``/``read_artifact`` take (model, version) and locate the bytes on every
        call; a copier that holds the version lets adapters that can locate them from it (MLflow:
        a download-URI call and a ``get_run`` per version) do so once."""
        return VersionFiles(self, version)

    # -- two-phase creation (pipelining) --------------------------------------------------
    def stage_version(self, model: str, spec: VersionSpec, files: Iterable[ArtifactUpload] = ()) -> StagedVersion:
        """Store a version's files ahead of registering it, so many can upload in parallel while
        registration keeps source order (``commit_version``). The default defers everything to
        ``commit_version``; adapters whose uploads are separable from registration override both."""
        return StagedVersion(model=model, spec=spec, files=list(files))

    def commit_version(self, staged: StagedVersion) -> ModelVersion:
        return self.create_version(staged.model, staged.spec, staged.files)

    def discard_staged(self, staged: StagedVersion) -> None:  # noqa: B027 - optional hook
        """Drop what ``stage_version`` stored when the version will not be committed."""

    # -- helpers built on the primitives --------------------------------------------------
    def get_lineage(self, model: str, version: str) -> Lineage:
        return self.get_version(model, version).lineage

    def get_version_by_alias(self, model: str, alias: str) -> ModelVersion:
        target = self.get_model(model).aliases.get(alias)
        if target is None:
            raise NotFound(f"model {model!r} has no alias {alias!r}", registry=self.name, field="alias")
        return self.get_version(model, target)

    def iter_models(self, query: ModelQuery | None = None, page_size: int | None = None) -> Iterator[Model]:
        token: str | None = None
        while True:
            page = self.list_models(query, page_size=page_size, page_token=token)
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def iter_versions(self, model: str, page_size: int | None = None) -> Iterator[ModelVersion]:
        token: str | None = None
        while True:
            page = self.list_versions(model, page_size=page_size, page_token=token)
            yield from page.items
            if not page.next_token:
                return
            token = page.next_token

    def read_artifact_bytes(self, model: str, version: str, path: str) -> bytes:
        """Convenience for small files (sidecars, cards, tests); never use for model weights."""
        return b"".join(self.read_artifact(model, version, path))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

