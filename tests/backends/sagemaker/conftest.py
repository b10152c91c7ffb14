"""One SageMaker emulator (with its S3) per test session; tests isolate by unique names."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulators import launcher

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


def client_for(info: dict[str, Any], service: str = "sagemaker", **kwargs: Any) -> Any:
    endpoint = info["s3_endpoint"] if service == "s3" else info["endpoint"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=info["region"],
        aws_access_key_id=kwargs.pop("access_key", "testing"),
        aws_secret_access_key="testing",
        config=kwargs.pop("config", NO_RETRY),
    )


@pytest.fixture(scope="session")
def emulator() -> Iterator[launcher.RunningEmulator]:
    running = launcher.start("sagemaker")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def sm(emulator: launcher.RunningEmulator) -> Any:
    return client_for(emulator.info)


@pytest.fixture(scope="session")
def s3(emulator: launcher.RunningEmulator) -> Any:
    return client_for(emulator.info, "s3")


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names unique per test, valid as SageMaker EntityName and S3 bucket names."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return make


def error_code(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.response["Error"]["Code"])


def error_message(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.response["Error"]["Message"])
