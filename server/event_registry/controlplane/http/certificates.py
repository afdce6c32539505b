"""The control plane's own certificate authority and serving certificate, for HTTPS.

kubectl and client-go send bearer tokens only over TLS, so a control plane that
authenticates serves HTTPS. On first start :func:`ensure` creates, in ``<data-dir>/pki/``, a
CA (``ca.crt``, ``ca.key``) and a serving certificate signed by it (``apiserver.crt``,
``apiserver.key``) for ``localhost``, ``127.0.0.1``, ``::1`` and the listen host; later starts
reuse them while they cover the host and are valid for at least a day, so kubeconfigs
written earlier keep verifying. Private keys are owner-readable only (0600). The kubeconfig
embeds ``ca.crt`` as ``certificate-authority-data``.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_VALIDITY = datetime.timedelta(days=365)
_RENEW_BEFORE = datetime.timedelta(days=1)


@dataclass(frozen=True)
class ServingCertificate:
    ca_file: Path
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> bytes:
        return self.ca_file.read_bytes()


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    addresses = {"127.0.0.1", "::1"}
    try:
        ipaddress.ip_address(host)
        addresses.add(host)
    except ValueError:
        if host and host != "localhost":
            names.append(x509.DNSName(host))
    for address in sorted(addresses):
        if address not in ("0.0.0.0", "::"):
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
    return names


def _still_good(cert_file: Path, host: str, now: datetime.datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        wanted = set(_names(host))
        present = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return wanted <= present and cert.not_valid_after_utc - now > _RENEW_BEFORE


def ensure(directory: Path, host: str) -> ServingCertificate:
    directory.mkdir(parents=True, exist_ok=True)
    files = ServingCertificate(
        directory / "ca.crt", directory / "apiserver.crt", directory / "apiserver.key"
    )
    now = datetime.datetime.now(datetime.UTC)
    ca_key_file = directory / "ca.key"
    if not (
        files.ca_file.exists() and ca_key_file.exists() and _still_good(files.ca_file, "", now)
    ):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "event-registry-ca")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + 10 * _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
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
            .add_extension(x509.SubjectAlternativeName(_names("")), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(ca_key_file, _key_pem(ca_key))
        files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        files.cert_file.unlink(missing_ok=True)
    if (
        files.cert_file.exists()
        and files.key_file.exists()
        and _still_good(files.cert_file, host, now)
    ):
        return files
    signing_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    if not isinstance(signing_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{ca_key_file} is not an EC private key")
    ca = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(x509.SubjectAlternativeName(_names(host)), critical=False)
        .sign(signing_key, hashes.SHA256())
    )
    _write_private(files.key_file, _key_pem(key))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
