"""Key-based controller login (cmon-proxy spec §5.2, cmon RPC v2 §2.3): the signature.

A controller configured with ``keyfile`` and no password answers ``authenticate`` with a
challenge; the client proves it holds the RSA key by returning the challenge's RSA
PKCS#1 v1.5 SHA-256 signature, base64-encoded. The key file is read at each login (logins
are rare, and an operator may replace the key); it must be an unencrypted PEM RSA key
(PKCS#1 ``RSA PRIVATE KEY`` or PKCS#8 ``PRIVATE KEY``), as for cmon-proxy.
"""

from __future__ import annotations

import base64
import os
import stat
from typing import TYPE_CHECKING

from ccmgr.cmon.errors import AuthFailed

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# cryptography is imported when a key is first used: loading its OpenSSL bindings costs
# every worker ~8 MiB, and most sites log in with passwords.

MAX_KEY_FILE = 64 * 1024  # the path comes from the API: never read a device or a huge file


def load_key(path: str) -> rsa.RSAPrivateKey:
    """The RSA key in ``path``; every problem is an ``AuthFailed``. The messages do not
    name the file: replies treat ``keyfile`` like the other credentials and never show it."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_KEY_FILE:
            raise AuthFailed.no_credentials(
                f"keyfile: not a regular file of at most {MAX_KEY_FILE // 1024} KiB")
        with open(path, "rb") as fh:
            data = fh.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise AuthFailed.no_credentials(
            f"cannot read the keyfile: {exc.strerror or type(exc).__name__}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AuthFailed.no_credentials(
            "keyfile: not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthFailed.no_credentials("keyfile: not an RSA key")
    return key


def sign(key: rsa.RSAPrivateKey, challenge: str) -> str:
    """The base64 RSA PKCS#1 v1.5 SHA-256 signature of ``challenge``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = key.sign(challenge.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()
