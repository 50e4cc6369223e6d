"""The RSA key pair of key-based logins (reference §2.3), one per simulator process.

Every static user of every simulated controller accepts signatures of this key, as if an
operator had registered one public key everywhere. It is made on first use (RSA key
generation takes ~0.1 s, too slow to pay per controller or when nobody uses it), and
tests fetch the private half through the admin endpoint (``GET /keys``).
"""

from __future__ import annotations

import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_lock = threading.Lock()
_key: rsa.RSAPrivateKey | None = None


def _private() -> rsa.RSAPrivateKey:
    global _key
    with _lock:
        if _key is None:
            _key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return _key


def private_pem() -> str:
    """The private key as PKCS#8 PEM (what cmon-proxy's ``keyfile`` holds)."""
    return _private().private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()


def verify(challenge: str, signature: bytes) -> bool:
    """Whether ``signature`` is an RSA PKCS#1 v1.5 SHA-256 signature of ``challenge``."""
    try:
        _private().public_key().verify(signature, challenge.encode(), padding.PKCS1v15(),
                                       hashes.SHA256())
    except InvalidSignature:
        return False
    return True
