"""TLS 1.2 offers AEAD suites only, no CBC (issue 18, defect 9)."""

from __future__ import annotations

import socket
import ssl

import pytest


def tls12(daemon, ciphers: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=daemon.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


@pytest.mark.parametrize("suite", ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
                                   "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"])
def test_tls12_cbc_suites_are_refused(daemon, suite):
    with pytest.raises(ssl.SSLError):
        tls12(daemon, suite).close()


def test_tls12_aead_suites_are_offered(daemon):
    for suite in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"):
        with tls12(daemon, suite) as sock:
            assert sock.cipher()[0] == suite
