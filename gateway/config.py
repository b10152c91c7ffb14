"""``mrg.yaml``: the registries to serve, the store, and who may do what.

Secrets never live in the file: a registry's credentials come from its cloud's own credential
chain or from environment variables named by ``*_env`` keys. A key that looks like a literal
secret is refused, and every error names the key and the rule in one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mapping.schema import RegistryKind

ROLES = ("viewer", "editor", "approver", "admin")
Role = Literal["viewer", "editor", "approver", "admin"]
_SECRET_KEY = re.compile(r"(^|_)(token|password|secret|secret_key|access_key|api_key|client_secret|key)$", re.I)
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
DEFAULT_DATA_DIR = "mrg-data"


class ConfigError(ValueError):
    """One readable line naming the key and the rule."""


class RegistryConfig(BaseModel):
    """One registry: its kind plus that backend's own settings (checked by the adapter's model)."""

    model_config = ConfigDict(extra="allow")

    kind: RegistryKind
    max_concurrency: int = Field(default=8, ge=1, le=256)
    rate_per_second: float | None = Field(default=None, gt=0)

    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Role granted to requests without credentials; None means they are refused.
    anonymous_role: Role | None = None
    # Environment variable holding "name:role:sha256hex" entries, comma-separated.
    api_keys_env: str | None = "MRG_API_KEYS"


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data_dir: str = DEFAULT_DATA_DIR
    database_url: str | None = None
    server: ServerConfig = Field(default_factory=ServerConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    registries: dict[str, RegistryConfig] = Field(default_factory=dict)

    @field_validator("registries")
    @classmethod
    def _names(cls, value: dict[str, RegistryConfig]) -> dict[str, RegistryConfig]:
        for name in value:
            if not _NAME.match(name):
                raise ValueError(f"registry name {name!r} must be 1-63 lowercase letters, digits, '-' or '_'")
        return value

    def resolved_database_url(self) -> str:
        url = os.environ.get("MRG_DATABASE_URL") or self.database_url
        if url:
            return url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'mrg.db'}"


def embedded_default(data_dir: str = DEFAULT_DATA_DIR) -> GatewayConfig:
    """No config given: one local MLflow registry under ``data_dir``, anonymous admin on loopback."""
    root = Path(data_dir).resolve()
    return GatewayConfig(
        data_dir=str(root),
        auth=AuthConfig(anonymous_role="admin"),
        registries={
            "local": RegistryConfig(
                kind=RegistryKind.MLFLOW,
                tracking_uri=f"sqlite:///{root / 'mlflow.db'}",
                artifact_location=str(root / "artifacts"),
            )
        },
    )


def _check_no_literal_secrets(raw: Any, path: str = "") -> None:
    if isinstance(raw, dict):
        for key, value in raw.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _SECRET_KEY.search(key) and isinstance(value, str) and value:
                raise ConfigError(
                    f"{where}: secrets may not be written in the config file; "
                    f"name an environment variable instead ({key}_env: VAR) or use the cloud's credential chain"
                )
            _check_no_literal_secrets(value, where)
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            _check_no_literal_secrets(item, f"{path}[{i}]")


def parse_config(raw: Any, source: str = "mrg.yaml") -> GatewayConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys (data_dir, server, auth, registries)")
    _check_no_literal_secrets(raw)
    try:
        config = GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None
    _check_adapter_settings(config, source)
    return config


def _check_adapter_settings(config: GatewayConfig, source: str) -> None:
    """Validate each registry's settings against its adapter's model, without importing an SDK."""
    from adapters.registry import adapter_class
    from mapping.errors import RegistryError

    for name, registry in config.registries.items():
        try:
            model = adapter_class(registry.kind.value).settings_model
        except RegistryError as exc:
            raise ConfigError(f"{source}: registries.{name}.kind: {exc.message}") from None
        if model is None:
            continue
        try:
            model.model_validate(registry.settings())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{source}: registries.{name}.{where}: {first['msg']}") from None


def load_config(path: str | Path | None) -> GatewayConfig:
    """Read ``path``; with no path, ``./mrg.yaml`` if present, else the embedded default."""
    if path is None:
        if Path("mrg.yaml").exists():
            path = "mrg.yaml"
        else:
            return embedded_default()
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    config = parse_config(raw, str(path))
    if not Path(config.data_dir).is_absolute():
        config.data_dir = str((file.parent / config.data_dir).resolve())
    return config
