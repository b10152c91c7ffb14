"""Naming and value rules the service enforces on model assets and their parents.

Patterns come from the Azure ML REST reference (model containers, workspaces, registries); the
integer-only model version is what users report the service enforcing for models (unlike data
assets). Messages are the emulator's own wording - see docs/emulators/azureml.md.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.azureml.errors import ArmError, bad_request

MODEL_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$")
WORKSPACE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{2,32}$")
REGISTRY_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{2,32}$")
MODEL_VERSION = re.compile(r"^[1-9][0-9]{0,18}$")
RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
DATASTORE_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_]{0,254}$")
MAX_DESCRIPTION = 5000  # inferred; see docs


def model_name(name: str) -> None:
    if not MODEL_NAME.match(name):
        raise bad_request(
            f"Model name '{name}' is invalid: it must start with a letter or digit, contain only letters, digits, "
            "'-' and '_', and be at most 255 characters (pattern ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$).",
            target="name",
        )


def model_version(version: str) -> None:
    if not MODEL_VERSION.match(version):
        raise bad_request(
            f"Model version '{version}' is invalid: model versions must be positive integers.", target="version"
        )


def string_map(value: Any, field: str) -> dict[str, str]:
    """Tags and properties are ``dict[str, str | None]`` on the wire; anything else is a 400."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{field}' must be an object of string values.", target=field)
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise bad_request(f"'{field}' keys must be non-empty strings.", target=field)
        if item is None:
            item = ""
        if not isinstance(item, str):
            raise bad_request(f"'{field}.{key}' must be a string.", target=field)
        out[key] = item
    return out


def optional_str(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise bad_request(f"'{field}' must be a string.", target=field)


def optional_bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise bad_request(f"'{field}' must be a boolean.", target=field)


def description(value: Any) -> str | None:
    text = optional_str(value, "description")
    if text is not None and len(text) > MAX_DESCRIPTION:
        raise bad_request(f"'description' must be at most {MAX_DESCRIPTION} characters.", target="description")
    return text


def parent_name(kind: str, name: str) -> None:
    """An invalid workspace or registry name in the path can never exist: ARM answers 404."""
    pattern = WORKSPACE_NAME if kind == "workspaces" else REGISTRY_NAME
    if not pattern.match(name):
        resource = "workspaces" if kind == "workspaces" else "registries"
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.MachineLearningServices/{resource}/{name}' was not found.",
        )


def resource_group(name: str) -> None:
    if not RESOURCE_GROUP.match(name) or name.endswith("."):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
