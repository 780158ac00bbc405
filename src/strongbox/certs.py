"""TLS: a local CA and a server certificate it signs, made on first start and then reused.

Files in ``tls_dir`` (keys 0600, folder 0700):

``ca.pem``          the CA certificate; give it to clients (``REQUESTS_CA_BUNDLE=ca.pem``,
                    ``httpx`` ``verify=ssl.create_default_context(cafile=...)``, azure-core
                    ``connection_verify=ca.pem``)
``ca-key.pem``      the CA key; kept so the server certificate can be renewed under the
                    same CA and clients keep trusting it
``server.pem``      the server certificate (what uvicorn calls ``ssl_certfile``)
``server-key.pem``  its key (``ssl_keyfile``)

The CA is EC P-256, ``basicConstraints CA:TRUE`` (critical, path length 0), ``keyUsage
keyCertSign, cRLSign`` (critical), valid 10 years. The server certificate is EC P-256,
``CA:FALSE``, ``keyUsage digitalSignature`` (critical), ``extendedKeyUsage serverAuth``,
SAN ``localhost``, ``127.0.0.1``, ``::1`` plus the requested hosts (IP literals as IP
entries, names as DNS entries; wildcard binds such as ``0.0.0.0`` are skipped), valid
about 2 years. Both carry subject and authority key identifiers, which OpenSSL's strict
mode (Python 3.13's default ``VERIFY_X509_STRICT``) demands.

The CA is never replaced while both its files exist. The server certificate is reissued when it is
missing, does not match its key, expires within 30 days, or does not name a requested
host. Only one process (``strongbox serve``) is expected to call :func:`ensure_tls` on a
given folder at a time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from strongbox.keyfiles import create_private_file, private_dir
from strongbox.domain.errors import ConfigError

CA_VALIDITY = dt.timedelta(days=3650)
SERVER_VALIDITY = dt.timedelta(days=730)
RENEW_BEFORE = dt.timedelta(days=30)
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
_BACKDATE = dt.timedelta(minutes=5)  # tolerate small clock differences with clients

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    cert: Path
    key: Path
    created: bool  # True when this call wrote a new CA or server certificate


def ensure_tls(tls_dir: Path, hosts: Sequence[str] = ()) -> TlsFiles:
    """Make sure a CA and a server certificate for ``hosts`` exist in ``tls_dir``."""
    private_dir(tls_dir)
    ca_cert_path, ca_key_path = tls_dir / "ca.pem", tls_dir / "ca-key.pem"
    cert_path, key_path = tls_dir / "server.pem", tls_dir / "server-key.pem"
    names, addresses = _subject_alt_names([*DEFAULT_HOSTS, *hosts])
    now = dt.datetime.now(dt.UTC)

    created = False
    if not (ca_cert_path.exists() and ca_key_path.exists()):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        _write_key(ca_key_path, ca_key)
        _write_atomically(ca_cert_path, _ca_certificate(ca_key, now).public_bytes(serialization.Encoding.PEM))
        created = True
    ca_key, ca_cert = _load_key(ca_key_path), _load_cert(ca_cert_path)

    if created or not _server_cert_is_good(cert_path, key_path, names, addresses, now):
        server_key = ec.generate_private_key(ec.SECP256R1())
        cert = _server_certificate(server_key, ca_key, ca_cert, names, addresses, now)
        _write_key(key_path, server_key)
        _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        created = True
    return TlsFiles(ca_cert=ca_cert_path, cert=cert_path, key=key_path, created=created)


def _subject_alt_names(hosts: Sequence[str]) -> tuple[list[str], list[IPAddress]]:
    names: list[str] = []
    addresses: list[IPAddress] = []
    for host in hosts:
        host = host.strip().strip("[]")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            name = host.lower().rstrip(".")
            if not name:
                continue
            try:
                name = name.encode("idna").decode("ascii")
            except UnicodeError:
                raise ConfigError(f"host {host!r} is not a valid DNS name") from None
            if name not in names:
                names.append(name)
            continue
        if not address.is_unspecified and address not in addresses:
            addresses.append(address)
    return names, addresses


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "strongbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    name = _name("strongbox local CA")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: list[str],
    addresses: list[IPAddress],
    now: dt.datetime,
) -> x509.Certificate:
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(a) for a in addresses]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(_name(names[0] if names else "strongbox"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + SERVER_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def _server_cert_is_good(
    cert_path: Path, key_path: Path, names: list[str], addresses: list[IPAddress], now: dt.datetime
) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        cert, key = _load_cert(cert_path), _load_key(key_path)
    except ConfigError:
        return False
    if cert.public_key() != key.public_key() or cert.not_valid_after_utc - now < RENEW_BEFORE:
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(names) <= set(san.get_values_for_type(x509.DNSName)) and set(addresses) <= set(
        san.get_values_for_type(x509.IPAddress)
    )


def _load_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as err:
        raise ConfigError(f"{path} is not a PEM certificate ({err})") from None


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as err:
        raise ConfigError(f"{path} is not a PEM private key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigError(f"{path} is not an EC private key")
    return key


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.unlink(missing_ok=True)
    if create_private_file(path, pem) != pem:
        raise ConfigError(f"{path} was written by another process at the same time; start again")


def _write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def check_operator_tls(cert: Path, key: Path) -> None:
    """Refuse, with a clear :class:`ConfigError`, an operator's certificate and key that TLS
    could not serve: missing or unreadable files, PEM that does not parse, a key that does
    not match the certificate."""
    import ssl

    from strongbox.domain.errors import ConfigError

    for what, path in (("server.tls_cert", cert), ("server.tls_key", key)):
        if not path.is_file():
            raise ConfigError(f"{what} {path} is not a readable file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile=str(cert), keyfile=str(key))
    except (ssl.SSLError, OSError, ValueError) as err:
        raise ConfigError(f"server.tls_cert {cert} and server.tls_key {key} cannot serve TLS "
                          f"(a PEM certificate chain and its matching private key are needed): {err}") from None
