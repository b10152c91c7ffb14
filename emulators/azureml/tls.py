"""A throw-away certificate authority and server certificate, generated at start-up.

The SDK's bearer-token policy refuses plain HTTP and azure-ai-ml builds workspace blob URLs as
``https://`` unconditionally, so the emulator and Azurite must both speak TLS. Generating the CA
at run time (never committing a key) and handing out a bundle of the system CAs plus this CA lets
a user trust the emulator without touching the system store.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Names the server certificate must cover: the emulator itself and every production-style blob
# host ``{account}.blob.core.localhost`` that azure-ai-ml derives from the cloud's storage endpoint.
DNS_NAMES = ("localhost", "core.localhost", "*.blob.core.localhost")
VALIDITY = dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the generated files; ``bundle`` is what ``REQUESTS_CA_BUNDLE`` should point at."""

    ca_cert: Path
    server_cert: Path
    server_key: Path
    bundle: Path


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _system_ca_pem() -> str:
    """The CAs ``requests`` would use by default, so trusting our bundle loses no real CA."""
    candidates = [ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt"]
    try:
        import certifi

        candidates.append(certifi.where())
    except ImportError:  # pragma: no cover - certifi ships with requests
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8")
    return ""


def _still_valid(cert_path: Path, hosts: tuple[str, ...]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    if cert.not_valid_after_utc - dt.datetime.now(dt.UTC) < dt.timedelta(days=1):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return all(host in ips for host in hosts)


def ensure_tls(directory: Path, ip_hosts: tuple[str, ...] = ("127.0.0.1",)) -> TlsMaterial:
    """Create (or reuse, when still valid) the CA, server certificate and CA bundle in ``directory``.

    Reuse matters with ``--data-dir``: a user who once pointed ``REQUESTS_CA_BUNDLE`` at the bundle
    keeps working across emulator restarts.
    """
    directory.mkdir(parents=True, exist_ok=True)
    material = TlsMaterial(
        ca_cert=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
        bundle=directory / "ca-bundle.pem",
    )
    if all(p.is_file() for p in (material.ca_cert, material.server_key, material.bundle)) and _still_valid(
        material.server_cert, ip_hosts
    ):
        return material

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mrg Azure ML emulator test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in DNS_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(h)) for h in dict.fromkeys(("127.0.0.1", *ip_hosts))]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode()
    material.ca_cert.write_text(ca_pem, encoding="utf-8")
    material.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(server_key, material.server_key)
    system = _system_ca_pem()
    material.bundle.write_text(system.rstrip("\n") + "\n" + ca_pem if system else ca_pem, encoding="utf-8")
    return material
