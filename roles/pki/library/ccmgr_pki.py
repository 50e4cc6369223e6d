#!/usr/bin/python
"""Ansible module: a private CA and the certificates it issues, on the control node.

Runs with the controller's Python (the `cryptography` package ccmgr itself pins), so the
role needs no collection. Idempotent and check-mode aware: an existing certificate is
kept while it is signed by the current CA, matches its key, carries exactly the wanted
SANs and is valid for more than `renew_days`; otherwise it is reissued.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: ccmgr_pki
short_description: Private CA and certificates for ccmgr (control node)
description:
  - With I(state=ca), makes sure C(dir)/ca.key and C(dir)/ca.crt hold a usable CA.
  - With I(state=cert), makes sure C(dir)/<name>.key and C(dir)/<name>.crt hold a
    certificate issued by that CA for I(sans), valid for more than I(renew_days) days.
options:
  state: {description: What to ensure., choices: [ca, cert], required: true, type: str}
  dir: {description: Directory on the control node., required: true, type: path}
  name: {description: File stem of the certificate (state=cert)., type: str}
  common_name: {description: Subject CN., required: true, type: str}
  sans:
    description: DNS names and IP addresses (state=cert).
    type: list
    elements: str
    default: []
  days: {description: Validity of a new certificate in days., type: int, default: 397}
  renew_days: {description: Reissue when fewer days than this remain., type: int, default: 30}
author: ccmgr
"""

import datetime
import ipaddress
import os

from ansible.module_utils.basic import AnsibleModule

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAVE_CRYPTO = True
except ImportError:  # reported by main()
    HAVE_CRYPTO = False


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def general_names(sans: list[str]) -> list:
    out = []
    for item in sans:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(item)))
        except ValueError:
            out.append(x509.DNSName(item))
    return out


def san_strings(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in ext.get_values_for_type(x509.DNSName)} | {
        str(v) for v in ext.get_values_for_type(x509.IPAddress)}


def normalise_sans(sans: list[str]) -> list[str]:
    out = set()
    for item in sans:
        try:
            out.add(str(ipaddress.ip_address(item)))
        except ValueError:
            out.add(item.lower())
    return out


def load_key(path: str):  # noqa: ANN201 - a key of any supported type
    with open(path, "rb") as handle:
        return serialization.load_pem_private_key(handle.read(), password=None)


def load_cert(path: str) -> x509.Certificate:
    with open(path, "rb") as handle:
        return x509.load_pem_x509_certificate(handle.read())


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def write(path: str, data: bytes, mode: int) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def remaining_days(cert: x509.Certificate) -> float:
    return (cert.not_valid_after_utc - now()).total_seconds() / 86400


def _pair(key_path: str, cert_path: str) -> tuple[str | None, x509.Certificate | None]:
    """(why the key and certificate pair is unusable, or None; the certificate)."""
    if not (os.path.exists(key_path) and os.path.exists(cert_path)):
        return "missing", None
    try:
        key, cert = load_key(key_path), load_cert(cert_path)
    except (ValueError, OSError) as exc:
        return f"unreadable: {exc}", None
    if public_bytes(key) != cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        return "key does not match certificate", None
    return None, cert


def ca_problem(key_path: str, cert_path: str, renew_days: int) -> str | None:
    """Why the CA must be (re)made, or None when it is fine."""
    problem, cert = _pair(key_path, cert_path)
    if problem is not None or cert is None:
        return problem
    if remaining_days(cert) < renew_days:
        return "expires within renew_days"
    return None


def cert_problem(key_path: str, cert_path: str, ca_cert: x509.Certificate, sans: list[str],
                 renew_days: int) -> str | None:
    problem, cert = _pair(key_path, cert_path)
    if problem is not None or cert is None:
        return problem
    if cert.issuer != ca_cert.subject:
        return "issued by another CA"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "not signed by the current CA"
    if san_strings(cert) != normalise_sans(sans):
        return "subject alternative names differ"
    if remaining_days(cert) < renew_days:
        return "expires within renew_days"
    return None


def make_ca(key_path: str, cert_path: str, common_name: str, days: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now() - datetime.timedelta(minutes=5))
            .not_valid_after(now() + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    write(key_path, key_pem(key), 0o600)
    write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def make_cert(key_path: str, cert_path: str, ca_key: ec.EllipticCurvePrivateKey,
              ca_cert: x509.Certificate, common_name: str, sans: list[str], days: int) -> None:
    key = load_key(key_path) if os.path.exists(key_path) else None
    if key is None:
        key = ec.generate_private_key(ec.SECP256R1())
        write(key_path, key_pem(key), 0o600)
    not_after = min(now() + datetime.timedelta(days=days), ca_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now() - datetime.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                         content_commitment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(general_names(sans)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    write(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "required": True, "choices": ["ca", "cert"]},
            "dir": {"type": "path", "required": True},
            "name": {"type": "str"},
            "common_name": {"type": "str", "required": True},
            "sans": {"type": "list", "elements": "str", "default": []},
            "days": {"type": "int", "default": 397},
            "renew_days": {"type": "int", "default": 30},
        },
        required_if=[("state", "cert", ["name"])],
        supports_check_mode=True,
    )
    if not HAVE_CRYPTO:
        module.fail_json(msg="the Python package 'cryptography' is needed on the control node "
                             "(ansible_playbook_python); it is in requirements/runtime.txt")
    p = module.params
    directory = p["dir"]
    ca_key_path, ca_cert_path = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.crt")
    result = {"changed": False, "ca_cert": ca_cert_path}

    if p["state"] == "ca":
        problem = ca_problem(ca_key_path, ca_cert_path, p["renew_days"])
        if problem:
            result.update(changed=True, reason=problem)
            if not module.check_mode:
                os.makedirs(directory, mode=0o700, exist_ok=True)
                make_ca(ca_key_path, ca_cert_path, p["common_name"], p["days"])
        if os.path.exists(ca_cert_path):
            result["not_after"] = load_cert(ca_cert_path).not_valid_after_utc.isoformat()
        module.exit_json(**result)

    if ca_problem(ca_key_path, ca_cert_path, 0):
        module.fail_json(msg=f"no usable CA in {directory}: run state=ca first")
    ca_key, ca_cert = load_key(ca_key_path), load_cert(ca_cert_path)
    key_path = os.path.join(directory, p["name"] + ".key")
    cert_path = os.path.join(directory, p["name"] + ".crt")
    result.update(key=key_path, cert=cert_path)
    problem = cert_problem(key_path, cert_path, ca_cert, p["sans"], p["renew_days"])
    if problem:
        result.update(changed=True, reason=problem)
        if not module.check_mode:
            make_cert(key_path, cert_path, ca_key, ca_cert, p["common_name"], p["sans"], p["days"])
    if os.path.exists(cert_path):
        result["not_after"] = load_cert(cert_path).not_valid_after_utc.isoformat()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
