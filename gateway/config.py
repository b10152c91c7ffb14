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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gateway.catalog.config import CatalogConfig
from mapping.schema import RegistryKind, Stage

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

    def settings(self, resolve_env: bool = True) -> dict[str, Any]:
        """The adapter's settings; ``<key>_env: VAR`` becomes ``<key>: $VAR`` (secrets by reference)."""
        out: dict[str, Any] = {}
        for key, value in (self.model_extra or {}).items():
            if key.endswith("_env") and isinstance(value, str):
                name = key[: -len("_env")]
                if not resolve_env:
                    out[name] = f"${{{value}}}"
                    continue
                if value not in os.environ:
                    from mapping.errors import InvalidInput

                    raise InvalidInput(f"{key}: environment variable {value} is not set", field=key)
                out[name] = os.environ[value]
            else:
                out[key] = value
        return out


class GrantConfig(BaseModel):
    """A role on the registries and models matching two globs, for one principal or a group.

    ``who`` is a principal name (an API key's name, a token's subject), ``group:<value>`` for
    every token whose roles claim holds that value, or ``*`` for every authenticated caller.
    """

    model_config = ConfigDict(extra="forbid")

    who: str = Field(min_length=1, max_length=255)
    role: Role
    registry: str = Field(default="*", min_length=1, max_length=255)
    model: str = Field(default="*", min_length=1, max_length=1024)


_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class OidcConfig(BaseModel):
    """Bearer JWTs from an identity provider, verified with its JWKS or one public key.

    Only asymmetric algorithms are accepted: a shared HMAC secret would have to live somewhere,
    and accepting both kinds invites algorithm-confusion attacks.
    """

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    jwks_url: str | None = None
    public_key_file: str | None = None  # PEM; a public key is not a secret, but keep PEM out of YAML
    public_key_env: str | None = None  # variable holding the PEM
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"], min_length=1)
    subject_claim: str = "sub"
    roles_claim: str = "roles"  # a list (or space-separated string) of roles and group names
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    jwks_cache_seconds: int = Field(default=300, ge=0, le=86_400)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        for alg in value:
            if alg not in _ASYMMETRIC:
                raise ValueError(f"algorithm {alg!r} is not allowed; use one of {', '.join(_ASYMMETRIC)}")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> OidcConfig:
        sources = [s for s in (self.jwks_url, self.public_key_file, self.public_key_env) if s]
        if len(sources) != 1:
            raise ValueError("name exactly one of jwks_url, public_key_file, public_key_env")
        return self


class ApprovalPolicyConfig(BaseModel):
    """Who must approve versions of the models matching two globs (the first matching policy wins)."""

    model_config = ConfigDict(extra="forbid")

    registry: str = Field(default="*", min_length=1)
    model: str = Field(default="*", min_length=1)
    required_role: Role = "approver"
    approvers: int = Field(default=1, ge=1, le=10)
    four_eyes: bool = True  # the requester's own vote never counts
    gate_protected: bool = False  # promotions to protected aliases/stages need an APPROVED version


class AuthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Role granted to requests without credentials; None means they are refused.
    anonymous_role: Role | None = None
    # Environment variable holding "name:role:sha256hex" entries, comma-separated.
    api_keys_env: str | None = "MRG_API_KEYS"
    # Scoped roles on top of the role each key or token carries.
    grants: list[GrantConfig] = Field(default_factory=list)
    oidc: OidcConfig | None = None
    # Moving these aliases (globs) or into/out of these stages needs the approve permission.
    protected_aliases: list[str] = Field(default_factory=lambda: ["prod", "production", "champion"])
    protected_stages: list[Stage] = Field(default_factory=lambda: [Stage.PRODUCTION])
    approval_policies: list[ApprovalPolicyConfig] = Field(default_factory=list)


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
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
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
            model.model_validate(registry.settings(resolve_env=False))
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
