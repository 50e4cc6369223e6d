"""Just enough HTTP/1.x on asyncio streams: keep-alive, HTTP/1.0 + Connection: close,
`Expect: 100-continue`, Content-Length and chunked bodies."""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass, field

MAX_HEADERS = 100
MAX_BODY = 8 * 1024 * 1024

REASONS = {100: "Continue", 200: "OK", 204: "No Content", 307: "Temporary Redirect",
           400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Payload Too Large", 425: "Too Early",
           500: "Internal Server Error"}


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP request we can read."""


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)  # (lower-case name, value)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]

    @property
    def keep_alive(self) -> bool:
        conn = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


async def read_request(reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> Request | None:
    """The next request on the connection, or None at a clean end of stream."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):  # tolerate stray CRLF between requests (RFC 9112 §2.2)
        line = await reader.readline()
    if not line:
        return None
    if not line.endswith(b"\n"):
        raise BadRequest("truncated request line")
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("malformed request line")
    req = Request(parts[0].upper(), parts[1], parts[2])
    for _ in range(MAX_HEADERS + 1):
        hline = await reader.readline()
        if not hline.endswith(b"\n"):
            raise BadRequest("truncated headers")
        if hline in (b"\r\n", b"\n"):
            break
        name, sep, value = hline.decode("latin-1").partition(":")
        if not sep:
            raise BadRequest("malformed header")
        req.headers.append((name.strip().lower(), value.strip()))
    else:
        raise BadRequest("too many headers")
    if "100-continue" in (req.header("expect") or "").lower() and req.version == "HTTP/1.1":
        # Answer at once so clients that do wait for it (Go's transport may) never stall.
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in (req.header("transfer-encoding") or "").lower():
        req.body = await _read_chunked(reader)
    else:
        length = req.header("content-length")
        if length:
            try:
                n = int(length)
            except ValueError:
                raise BadRequest("bad Content-Length") from None
            if n < 0 or n > MAX_BODY:
                raise BadRequest("bad Content-Length")
            req.body = await reader.readexactly(n)
    return req


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    total = 0
    for _ in range(100_000):
        size_line = await reader.readline()
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size == 0:
            for _ in range(MAX_HEADERS + 1):  # trailers
                if (await reader.readline()) in (b"\r\n", b"\n", b""):
                    return b"".join(chunks)
            raise BadRequest("too many trailers")
        total += size
        if total > MAX_BODY:
            raise BadRequest("body too large")
        chunks.append(await reader.readexactly(size))
        await reader.readline()
    raise BadRequest("too many chunks")


_date_cache: tuple[int, str] = (0, "")


def http_date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


def response_bytes(status: int, headers: list[tuple[str, str]], body: bytes,
                   keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}", f"Date: {http_date()}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"Content-Length: {len(body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
