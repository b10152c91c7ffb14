"""The emulator's own view of Azurite: containers for datastores and registry uploads, and SAS URIs.

Two URL forms for one Azurite: the emulator talks to it path-style on 127.0.0.1 (no name
resolution needed in this process), while everything handed to SDK users is production-style,
``https://{account}.blob.core.localhost:{port}/...``, because azure-ai-ml derives workspace blob
URLs from the cloud's storage endpoint and parses registry URIs as ``https://host/container/path``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    generate_container_sas,
)


@dataclass
class BlobStore:
    """Azurite as seen by the emulator (``internal_url``) and by users (``public_endpoint``)."""

    account: str
    key: str
    port: int
    ca_bundle: Path
    host: str = "127.0.0.1"
    _known: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def storage_endpoint(self) -> str:
        """The cloud metadata ``storage_endpoint``: azure-ai-ml prefixes ``{account}.blob.``."""
        return f"core.localhost:{self.port}"

    @property
    def public_endpoint(self) -> str:
        return f"https://{self.account}.blob.{self.storage_endpoint}"

    def _service(self) -> BlobServiceClient:
        return BlobServiceClient(
            f"https://{self.host}:{self.port}/{self.account}",
            credential={"account_name": self.account, "account_key": self.key},
            connection_verify=str(self.ca_bundle),
        )

    def ensure_container(self, name: str) -> None:
        """Create the container once; the real datastore container always exists."""
        with self._lock:
            if name in self._known:
                return
            with contextlib.suppress(ResourceExistsError):
                self._service().create_container(name)
            self._known.add(name)

    def container_sas_url(self, container: str, *, write: bool, hours: float = 1.0) -> str:
        """A container-level SAS URL, as the registry data plane returns for uploads and downloads."""
        permission = ContainerSasPermissions(read=True, list=True, write=write, create=write, add=write)
        token = generate_container_sas(
            self.account, container, account_key=self.key, permission=permission,
            expiry=dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours),
            start=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5),
        )
        return f"{self.public_endpoint}/{container}?{token}"

    def container_of(self, blob_uri: str) -> str | None:
        """The container named in a production-style blob URI of this account, if it is one."""
        prefix = self.public_endpoint + "/"
        if not blob_uri.startswith(prefix):
            return None
        container = blob_uri[len(prefix):].split("/", 1)[0].split("?", 1)[0]
        return container or None


def registry_container_name(registry: str, model: str, version: str, nonce: str) -> str:
    """A valid container name (3-63 chars, lowercase, single hyphens) unique to one upload."""
    stem = re.sub(r"[^a-z0-9]+", "-", f"{registry}-{model}-{version}".lower()).strip("-")[:40].strip("-")
    digest = hashlib.sha256(f"{registry}/{model}/{version}/{nonce}".encode()).hexdigest()[:12]
    return f"{stem}-{digest}" if stem else f"asset-{digest}"


def workspace_container_name(workspace_guid: str) -> str:
    return f"azureml-blobstore-{workspace_guid}"
