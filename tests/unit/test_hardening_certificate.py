"""The generated certificate is valid for a year and renewed near its end; an
operator's certificate is never touched (issue 18, defect 9)."""

from __future__ import annotations

import datetime
from pathlib import Path

from ccmgr.tlsgen import generate_self_signed, renew_if_expiring
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def not_after(path: Path) -> datetime.datetime:
    return x509.load_pem_x509_certificate(path.read_bytes()).not_valid_after_utc


def test_generated_certificate_is_valid_for_a_year_and_renewed_near_its_end(tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    generate_self_signed(str(cert), str(key))
    left = not_after(cert) - datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(days=360) < left <= datetime.timedelta(days=366)
    assert not renew_if_expiring(str(cert), str(key))
    generate_self_signed(str(cert), str(key), days=10)
    old = cert.read_bytes()
    assert renew_if_expiring(str(cert), str(key))
    assert cert.read_bytes() != old
    assert not_after(cert) - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=300)


def test_an_operators_certificate_is_never_renewed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "ccm1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=5))
            .sign(key, hashes.SHA256()))
    path = tmp_path / "operator.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    before = path.read_bytes()
    assert not renew_if_expiring(str(path), str(tmp_path / "operator.key"))
    assert path.read_bytes() == before
