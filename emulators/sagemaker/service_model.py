"""botocore's own SageMaker service model, loaded from the installed botocore at run time.

Validating against the very model the SDK is generated from keeps the emulator's notion of
"valid" in step with boto3 without copying (and then drifting from) the model file.
"""

from __future__ import annotations

from functools import lru_cache

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel


@lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    return ServiceModel(Loader().load_service_model("sagemaker", "service-2"), service_name="sagemaker")


def operation(name: str) -> OperationModel | None:
    """The operation's model, or None when SageMaker has no such operation."""
    model = service_model()
    if name not in model.operation_names:
        return None
    return model.operation_model(name)


def target_prefix() -> str:
    return str(service_model().metadata["targetPrefix"])
