"""The pieces users wire in by hand: the generated CA, in-process name resolution, the offline
credential and the Azurite locator."""

from __future__ import annotations

import socket
import ssl

import pytest
from cryptography import x509

from emulators.azureml import azurite, tls
from emulators.azureml.client import OfflineCredential, enable_localhost_resolution


def test_generated_certificate_covers_emulator_and_blob_hosts(tmp_path):
    material = tls.ensure_tls(tmp_path)
    cert = x509.load_pem_x509_certificate(material.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "*.blob.core.localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    # the bundle verifies the server certificate and still holds the system CAs
    context = ssl.create_default_context(cafile=str(material.bundle))
    assert len(context.get_ca_certs()) > 1
    assert (material.server_key.stat().st_mode & 0o077) == 0


def test_certificate_is_reused_while_valid(tmp_path):
    first = tls.ensure_tls(tmp_path).ca_cert.read_bytes()
    assert tls.ensure_tls(tmp_path).ca_cert.read_bytes() == first


def test_localhost_subdomains_resolve_to_loopback_only():
    enable_localhost_resolution()
    enable_localhost_resolution()  # idempotent
    addresses = {info[4][0] for info in socket.getaddrinfo("devstoreaccount1.blob.core.localhost", 443)}
    assert addresses == {"127.0.0.1"}
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 443)


def test_offline_credential_returns_a_live_token():
    import time

    token = OfflineCredential("Alice").get_token("https://example/.default")
    assert token.expires_on > time.time() + 600
    assert token.token.count(".") == 2


def test_azurite_is_found_in_the_project_cache():
    binary = azurite.find()
    assert binary is not None and binary.name == "azurite-blob"
