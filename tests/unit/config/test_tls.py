"""ensure_tls: certificates that strict Python clients accept from a real HTTPS server."""

from __future__ import annotations

import http.server
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from strongbox.certs import TlsFiles, ensure_tls


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return ensure_tls(tmp_path / "tls", ["strongbox.test", "10.1.2.3", "0.0.0.0"])


@pytest.fixture
def server(tls: TlsFiles) -> Iterator[int]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert, tls.key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def strict_context(cafile: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cafile))
    # What Python 3.13 turns on by default; set here so 3.11 and 3.12 check it too.
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_strict_clients_trust_the_server(tls: TlsFiles, server: int, host: str) -> None:
    with httpx.Client(verify=strict_context(tls.ca_cert)) as client:
        response = client.get(f"https://{host}:{server}/")
    assert response.status_code == 200 and response.text == "hello"
    assert requests.get(f"https://{host}:{server}/", verify=str(tls.ca_cert), timeout=10).text == "hello"


def test_clients_without_the_ca_refuse(server: int) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{server}/", verify=ssl.create_default_context())
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://localhost:{server}/", timeout=10)


def test_a_name_not_in_the_certificate_is_refused(tls: TlsFiles, server: int) -> None:
    context = strict_context(tls.ca_cert)
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        import socket

        with socket.create_connection(("127.0.0.1", server)) as sock:
            context.wrap_socket(sock, server_hostname="elsewhere.test").close()


def test_certificate_contents(tls: TlsFiles) -> None:
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days >= 3649
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert 700 <= (cert.not_valid_after_utc - cert.not_valid_before_utc).days <= 800
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "strongbox.test"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1", "10.1.2.3"]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    cert.verify_directly_issued_by(ca)
    for key in (tls.key, tls.cert.parent / "ca-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_reused_and_reissued_only_when_needed(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path, ["strongbox.test"])
    assert first.created
    ca_pem, cert_pem = first.ca_cert.read_bytes(), first.cert.read_bytes()
    again = ensure_tls(tmp_path, ["strongbox.test"])
    assert not again.created and again.cert.read_bytes() == cert_pem
    assert not ensure_tls(tmp_path, []).created, "a subset of the names needs nothing new"
    wider = ensure_tls(tmp_path, ["other.test"])
    assert wider.created and wider.cert.read_bytes() != cert_pem
    assert wider.ca_cert.read_bytes() == ca_pem, "clients keep trusting the same CA"
