"""A valid chunked request body is read, not taken as empty (issue 18, defect 9)."""

from __future__ import annotations

import json
import socket
import ssl


def tls12(daemon, ciphers: str) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=daemon.ca)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(ciphers)
    raw = socket.create_connection(("127.0.0.1", daemon.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


def test_chunked_login_body_is_read(daemon):
    body = json.dumps({"username": "admin", "password": daemon.admin_password()}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]))
    request = (b"POST /proxy/auth/login HTTP/1.1\r\nHost: localhost\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n")
    with tls12(daemon, "ECDHE+AESGCM") as sock:
        sock.sendall(request)
        reply = b""
        while data := sock.recv(65536):
            reply += data
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
