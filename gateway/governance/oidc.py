"""OIDC bearer tokens: signature, issuer, audience and expiry checked; subject and roles read.

The signing keys come from the provider's JWKS (fetched on first use and cached; an unknown
``kid`` triggers one refetch, so key rotation needs no restart) or from one configured public
key. A token that fails any check is refused with a reason that never repeats the token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.config import OidcConfig
from mapping.errors import InvalidInput, PermissionDenied, Unavailable


@dataclass(frozen=True)
class TokenIdentity:
    subject: str
    roles: tuple[str, ...]


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("eyJ")


def roles_from_claim(value: Any) -> tuple[str, ...]:
    """A roles claim may be a list of strings or one space-separated string (both are common)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.split() if v)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if isinstance(v, str) and v)
    return ()


def _jwt() -> Any:
    """PyJWT is imported only when OIDC is configured (the ``oidc`` extra), keeping start-up lean."""
    try:
        import jwt
    except ImportError:
        raise InvalidInput("auth.oidc: needs PyJWT with crypto (pip install 'model-registry-gateway[oidc]')",
                           field="auth.oidc") from None
    return jwt


class TokenVerifier:
    def __init__(self, config: OidcConfig) -> None:
        jwt = _jwt()
        self.config = config
        self._jwks: Any = None  # a jwt.PyJWKClient when keys come from a JWKS URL
        self._key: Any = None
        if config.jwks_url:
            self._jwks = jwt.PyJWKClient(config.jwks_url, cache_keys=True, lifespan=max(1, config.jwks_cache_seconds),
                                         timeout=5)
        else:
            self._key = _load_public_key(config)

    def _signing_key(self, token: str) -> Any:
        jwt = _jwt()
        if self._jwks is None:
            return self._key
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable(f"token: the identity provider's keys could not be fetched ({type(exc).__name__})") from None
        except (jwt.PyJWKClientError, jwt.DecodeError):
            raise PermissionDenied("token: signed with a key the identity provider does not publish") from None

    def verify(self, token: str) -> TokenIdentity:
        jwt = _jwt()
        cfg = self.config
        key = self._signing_key(token)
        try:
            claims = jwt.decode(
                token, key, algorithms=cfg.algorithms, audience=cfg.audience, issuer=cfg.issuer,
                leeway=cfg.leeway_seconds, options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise PermissionDenied("token: expired") from None
        except jwt.InvalidAudienceError:
            raise PermissionDenied("token: wrong audience") from None
        except jwt.InvalidIssuerError:
            raise PermissionDenied("token: wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise PermissionDenied("token: bad signature") from None
        except jwt.MissingRequiredClaimError as exc:
            raise PermissionDenied(f"token: missing the {exc.claim!r} claim") from None
        except jwt.InvalidAlgorithmError:
            raise PermissionDenied(f"token: algorithm not allowed (allowed: {', '.join(cfg.algorithms)})") from None
        except jwt.InvalidTokenError as exc:
            raise PermissionDenied(f"token: invalid ({type(exc).__name__})") from None
        subject = claims.get(cfg.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise PermissionDenied(f"token: the {cfg.subject_claim!r} claim is missing or not a string")
        return TokenIdentity(subject=subject, roles=roles_from_claim(claims.get(cfg.roles_claim)))


def _load_public_key(config: OidcConfig) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if config.public_key_file:
        path = Path(config.public_key_file)
        if not path.exists():
            raise InvalidInput(f"auth.oidc.public_key_file: no such file {path}", field="auth.oidc.public_key_file")
        pem = path.read_bytes()
    else:
        assert config.public_key_env
        value = os.environ.get(config.public_key_env)
        if not value:
            raise InvalidInput(f"auth.oidc.public_key_env: environment variable {config.public_key_env} is not set",
                               field="auth.oidc.public_key_env")
        pem = value.encode()
    try:
        return load_pem_public_key(pem)
    except ValueError:
        raise InvalidInput("auth.oidc: the public key is not a PEM public key", field="auth.oidc") from None
