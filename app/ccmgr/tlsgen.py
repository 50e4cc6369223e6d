"""A self-signed certificate for first start, with SANs for the host's names and addresses."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccmgr.fsutil import atomic_write


def host_identities() -> tuple[list[str], list[str]]:
    """Names and addresses this host answers to (best effort, never fails)."""
    names = {"localhost", socket.gethostname()}
    with contextlib.suppress(OSError):
        names.add(socket.getfqdn())
    addresses = {"127.0.0.1", "::1"}
    for name in list(names):
        try:
            for info in socket.getaddrinfo(name, None):
                addresses.add(info[4][0].split("%")[0])
        except OSError:
            continue
    return sorted(n for n in names if n), sorted(addresses)


# A year, not ten: a generated certificate that leaks or is pinned somewhere stops being
# good soon; ccmgr renews its own at start once fewer than RENEW_DAYS are left.
VALID_DAYS = 365
RENEW_DAYS = 30
ORGANIZATION = "ccmgr"


def generate_self_signed(cert_path: str, key_path: str, *, days: int = VALID_DAYS) -> None:
    """Write an ECDSA P-256 certificate (0644) and key (0600); never half-written."""
    names, addresses = host_identities()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "ccmgr"),
    ])
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    for address in addresses:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            continue
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    for path in (cert_path, key_path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(key_path, key.private_bytes(serialization.Encoding.PEM,
                                             serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()), 0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


class CertificateError(Exception):
    pass


def ensure_certificate(cert_path: str, key_path: str) -> bool:
    """Generate the pair when both files are missing; True if it did.

    One file without the other is an operator's half-finished change: refuse rather than
    overwrite a certificate or key somebody put there.
    """
    have_cert, have_key = os.path.exists(cert_path), os.path.exists(key_path)
    if have_cert and have_key:
        return False
    if have_cert or have_key:
        present, missing = (cert_path, key_path) if have_cert else (key_path, cert_path)
        raise CertificateError(f"{present} exists but {missing} is missing; "
                               "provide both files or remove both to generate a new pair")
    generate_self_signed(cert_path, key_path)
    return True


def renew_if_expiring(cert_path: str, key_path: str, *, days: int = RENEW_DAYS) -> bool:
    """Replace a certificate ccmgr generated itself (self-signed, organisation "ccmgr")
    once fewer than ``days`` days are left; True if it did. Any other certificate is the
    operator's and is never touched."""
    try:
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError):
        return False
    ours = cert.issuer == cert.subject and cert.subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME) == [x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                          ORGANIZATION)]
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    if not ours or left > datetime.timedelta(days=days):
        return False
    generate_self_signed(cert_path, key_path)
    return True
