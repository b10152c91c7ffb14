"""Everything a request handler needs, built once at start-up and hung on ``app.state.ctx``."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.azureml.blobstore import BlobStore
from emulators.azureml.store import Store

CLOUD_NAME = "AzureMLEmulator"
# Fixed ids make the announcement stable across runs; any subscription and resource group work.
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-00000000a2e1"
DEFAULT_RESOURCE_GROUP = "mrg-emulator"
DEFAULT_WORKSPACE = "mrg-workspace"
DEFAULT_REGISTRY = "mrg-registry"
TENANT_ID = "00000000-0000-0000-0000-0000000e3a7e"

# api-versions of Microsoft.MachineLearningServices the emulator answers for ARM routes. The SDK
# uses 2023-08-01-preview for models and 2024-10-01-preview for datastores; the rest are published
# versions of the same resource types whose model/datastore shapes match.
ARM_API_VERSIONS = frozenset({
    "2022-05-01", "2022-10-01", "2022-12-01-preview", "2023-02-01-preview", "2023-04-01", "2023-04-01-preview",
    "2023-06-01-preview", "2023-08-01-preview", "2023-10-01", "2024-01-01-preview", "2024-04-01",
    "2024-04-01-preview", "2024-07-01-preview", "2024-10-01", "2024-10-01-preview", "2025-01-01-preview",
})
REGISTRY_API_VERSIONS = frozenset({"2021-10-01-dataplanepreview"})
DISCOVERY_API_VERSIONS = frozenset({"v1.0"})


@dataclass
class EmulatorContext:
    endpoint: str
    location: str
    store: Store
    blobs: BlobStore
    ca_bundle: Path
    ca_cert: Path
    wire_log: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def workspace_guid(self, subscription: str, resource_group: str, workspace: str) -> str:
        """Stable per workspace, like the real ``workspaceId``; names the datastore container."""
        key = "/".join(p.lower() for p in (subscription, resource_group, workspace))
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mrg-azureml-emulator/{key}"))

    def cloud_name(self) -> str:
        """Unique per set of endpoints: azure-ai-ml registers a cloud name once per process and
        silently keeps the first metadata, so a restarted emulator on new ports needs a new name."""
        digest = hashlib.sha256(json.dumps(self.cloud_metadata(), sort_keys=True).encode()).hexdigest()[:10]
        return f"{CLOUD_NAME}-{digest}"

    def cloud_metadata(self) -> dict[str, str]:
        """The six keys ``MLClient(cloud=..., cloud_metadata=...)`` requires."""
        return {
            "azure_portal": self.endpoint + "/",
            "resource_manager": self.endpoint + "/",
            "active_directory": self.endpoint + "/",
            "aml_resource_id": self.endpoint + "/",
            "storage_endpoint": self.blobs.storage_endpoint,
            "registry_discovery_endpoint": self.endpoint + "/",
        }
