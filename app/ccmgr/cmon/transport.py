"""One POST to a controller, read whole, every failure a ``cmon.errors`` type.

The same function serves the cmon client in the worker and the fetch processes
(``cmon.offload``), so a call fails with the same error and message wherever it ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests
import urllib3

from ccmgr.cmon import wire
from ccmgr.cmon.errors import BadReply, ConnectFailed, Timeout, TLSFailed
from ccmgr.http import GateTimeout, HttpPool

CONNECT_TIMEOUT = 3.0  # cmon-proxy's dial timeout
MIN_READ_TIMEOUT = 0.05


@dataclass(frozen=True)
class Request:
    """What one POST needs: plain values, so that a fetch process can be sent it."""

    base: str            # https://host:port[/prefix]
    ca_file: str         # "" = do not verify (cmon's default)
    module: str          # the path after /v2/
    data: str            # the JSON body
    sid: str             # the cmon-sid cookie, "" for none
    deadline: float | None  # time.monotonic() (one clock for every process of a host)
    timeout: float       # the client's timeout, when there is no deadline


@dataclass(frozen=True)
class Reply:
    """One controller reply, read whole."""

    status_code: int
    headers: Mapping[str, str]
    set_cookies: list[str]
    body: bytes
    typed: wire.Envelope | None = None  # the body decoded by the caller's ``decode``


def gate_timeout(base: str, timeout: float) -> Timeout:
    return Timeout(f"no reply from {base} read within {timeout:g}s "
                   "(busy reading other replies)")


def post(http: HttpPool, request: Request,
         decode: Callable[[bytes], wire.Envelope | None] | None = None,
         deliver: Callable[[Reply], None] | None = None) -> Reply:
    """The POST through ``http``'s pooled session, its body read and ``decode``-d, and
    handed to ``deliver`` (a fetch process sends it on) while still within the reply
    gate, so that the gate bounds the replies held in memory until they are gone."""
    deadline = request.deadline
    remaining = request.timeout if deadline is None else deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout(f"no reply from {request.base} within {request.timeout:g}s")
    read = max(MIN_READ_TIMEOUT, remaining)
    headers = {"Content-Type": "application/json"}
    if request.sid:
        headers["Cookie"] = f"cmon-sid={request.sid}"
    url = f"{request.base}/v2/{request.module}"
    try:
        session = http.session(request.base, request.ca_file)
    except OSError as exc:  # an unreadable or invalid ca_file (ssl.SSLError included)
        raise TLSFailed(f"cannot use ca_file {request.ca_file!r}: {exc}") from None
    try:
        try:
            response = session.post(url, data=request.data, headers=headers, stream=True,
                                    timeout=(min(CONNECT_TIMEOUT, read), read))
        except requests.exceptions.ConnectionError as exc:
            # A pooled keep-alive connection the controller closed meanwhile fails
            # before any reply; every call here only reads, so one retry is safe.
            if not _aborted(exc):
                raise
            read = max(MIN_READ_TIMEOUT, deadline - time.monotonic()) \
                if deadline is not None else read
            response = session.post(url, data=request.data, headers=headers, stream=True,
                                    timeout=(min(CONNECT_TIMEOUT, read), read))
        return _read_whole(http, request, response, decode, deliver)
    except (requests.exceptions.SSLError, urllib3.exceptions.SSLError) as exc:
        raise TLSFailed(f'Post "{url}": TLS failure: {_reason(exc)}') from None
    except (requests.exceptions.ConnectTimeout, requests.exceptions.ReadTimeout,
            urllib3.exceptions.ReadTimeoutError):
        raise Timeout(f'Post "{url}": no reply within {read:.3g}s (timeout)') from None
    except requests.exceptions.ConnectionError as exc:
        raise ConnectFailed(f'Post "{url}": {_reason(exc)}') from None
    except urllib3.exceptions.ProtocolError as exc:  # the body broke off
        raise BadReply(f'Post "{url}": reply broken off: {_reason(exc)}') from None
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise BadReply(f'Post "{url}": {_reason(exc)}') from None
    except OSError as exc:  # a socket error no library layer wrapped
        raise ConnectFailed(f'Post "{url}": {_reason(exc)}') from None


def _read_whole(http: HttpPool, request: Request, response: requests.Response,
                decode: Callable[[bytes], wire.Envelope | None] | None,
                deliver: Callable[[Reply], None] | None) -> Reply:
    """The body in one read (requests' own ``content`` reads 10 KiB at a time: in a
    burst ~20 lock round trips per reply instead of one), and ``decode``-d, within the
    pool's reply gate (``HttpPool.reading``): replies that arrive together wait in
    their sockets, not in memory. A reply read to its end hands its connection back to
    the pool; ``close`` then only frees one that broke off."""
    try:
        with http.reading(request.deadline):
            data = response.raw.read(decode_content=True)
            typed = decode(data) if decode is not None else None
            reply = Reply(response.status_code, response.headers,
                          response.raw.headers.getlist("Set-Cookie"), data, typed)
            if deliver is not None:
                deliver(reply)
        return reply
    except GateTimeout:
        raise gate_timeout(request.base, request.timeout) from None
    finally:
        response.close()


def _aborted(exc: BaseException) -> bool:
    text = repr(exc)
    return "Connection aborted" in text or "RemoteDisconnected" in text


def _reason(exc: BaseException) -> str:
    """The innermost cause, without urllib3's pool/object noise."""
    inner: BaseException = exc
    seen = set()
    while True:
        nxt = inner.__cause__ or inner.__context__
        if isinstance(inner.args[0] if inner.args else None, BaseException):
            nxt = inner.args[0]
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            nxt = reason
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(inner))
        inner = nxt
    text = str(inner) or type(inner).__name__
    if "Connection refused" in text:
        return "connect: connection refused"
    if "reset by peer" in text:
        return "read: connection reset by peer"
    return text
