"""ARN construction and parsing for the resources this emulator hosts.

SageMaker lowercases resource names inside ARNs (``model-package/fraud-cs/1`` for group
``Fraud-CS``), so lookups by ARN and by name both go through the lowercased key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .state import Settings

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z\-]*):sagemaker:(?P<region>[a-z0-9\-]*):(?P<account>\d{12}):(?P<resource>.+)$")


@dataclass(frozen=True)
class ParsedArn:
    partition: str
    region: str
    account: str
    resource_type: str
    resource_id: str


def build(settings: Settings, resource_type: str, resource_id: str) -> str:
    return f"arn:{settings.partition}:sagemaker:{settings.region}:{settings.account_id}:{resource_type}/{resource_id}"


def parse(arn: str) -> ParsedArn | None:
    match = _ARN.match(arn)
    if not match:
        return None
    resource = match.group("resource")
    kind, _, ident = resource.partition("/")
    return ParsedArn(match.group("partition"), match.group("region"), match.group("account"), kind, ident)


def is_local(settings: Settings, parsed: ParsedArn) -> bool:
    """ARNs naming another account or region refer to resources this endpoint does not hold."""
    return parsed.region == settings.region and parsed.account == settings.account_id


def group_arn(settings: Settings, name: str) -> str:
    return build(settings, "model-package-group", name.lower())


def package_arn(settings: Settings, name: str, version: int | None) -> str:
    suffix = f"{name.lower()}/{version}" if version is not None else name.lower()
    return build(settings, "model-package", suffix)
