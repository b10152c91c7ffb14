"""The lazy backend registry: kind -> "module:Class", imported on first use.

Cloud SDKs take seconds to import; naming adapters by string keeps ``mrg serve`` start-up to
what the configured registries actually need, and only when they are first called.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from adapters.base import RegistryAdapter
from mapping.errors import InvalidInput

BACKENDS: dict[str, str] = {
    "mlflow": "adapters.mlflow:MlflowAdapter",
    "sagemaker": "adapters.sagemaker:SageMakerAdapter",
    "vertex": "adapters.vertex:VertexAdapter",
    "azureml": "adapters.azureml:AzureMLAdapter",
    "hf": "adapters.hf:HuggingFaceAdapter",
}


def register(kind: str, target: str) -> None:
    """Add or replace a backend (plug-ins, tests)."""
    BACKENDS[kind] = target


def adapter_class(kind: str) -> type[RegistryAdapter]:
    target = BACKENDS.get(kind)
    if target is None:
        raise InvalidInput(f"kind: unknown registry kind {kind!r} (known: {', '.join(sorted(BACKENDS))})", field="kind")
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise InvalidInput(
            f"kind: backend {kind!r} is not available ({exc.name} is not installed; "
            f"install the extra: pip install 'model-registry-gateway[{kind}]')",
            field="kind",
        ) from exc
    cls = getattr(module, class_name)
    assert issubclass(cls, RegistryAdapter)
    return cls


def create_adapter(name: str, kind: str, settings: Mapping[str, Any] | None = None) -> RegistryAdapter:
    return adapter_class(kind)(name, settings or {})
