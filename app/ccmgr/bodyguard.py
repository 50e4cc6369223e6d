"""Decoding an untrusted JSON body into plain values, or a clear 400.

``json.loads`` alone lets three inputs through to code that fails later with a 500 and a
traceback: nesting ~990 levels deep (RecursionError), an integer of more than 4,300
digits (Python's int/str conversion limit: a ValueError that is not a JSONDecodeError),
and a lone surrogate escape such as ``"\\ud800"``, which decodes into a str that cannot be
encoded as UTF-8 again (YAML, the log and the reply all fail on it).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import falcon

from ccmgr.errors import InvalidRequest

#: No request of the API nests deeper than 4 levels; 32 leaves room without letting the
#: walk below (or any later recursion) go deep.
MAX_DEPTH = 32


def raw_body(req: falcon.Request, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of the body. falcon's bounded_stream reads nothing without
    a Content-Length, so a chunked body (gunicorn de-chunks wsgi.input) is read from the
    stream itself."""
    if req.content_length is None and "chunked" in (req.get_header("Transfer-Encoding")
                                                     or "").lower():
        return req.stream.read(limit + 1)
    return req.bounded_stream.read(limit + 1)


def loads(data: bytes) -> Any:
    """The decoded body; InvalidRequest for anything that is not plain, bounded JSON."""
    try:
        body = json.loads(data)
    except UnicodeDecodeError:
        raise InvalidRequest("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                             ) from None
    except RecursionError:
        raise InvalidRequest(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # the int/str digit limit
        raise InvalidRequest(f"number longer than {sys.get_int_max_str_digits()} digits"
                             ) from None
    if not _plain_for_sure(data):
        check_plain(body)
    return body


def _plain_for_sure(data: bytes) -> bool:
    """Whether the raw body rules out what ``check_plain`` looks for, so the walk can be
    skipped (almost every body; the walk was half the decoding time of a list request):
    no more brackets than levels allowed, and no way to a surrogate: no ``\\u`` escape,
    no UTF-8 lead byte of one (json decodes bytes with ``surrogatepass``), no NUL (the
    UTF-16 and UTF-32 json also takes)."""
    return (isinstance(data, bytes) and b"\\u" not in data and b"\xed" not in data
            and b"\x00" not in data and data.count(b"{") + data.count(b"[") <= MAX_DEPTH)


def check_plain(value: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings that are not valid Unicode."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise InvalidRequest(f"JSON nested more than {MAX_DEPTH} levels deep")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequest("string is not valid Unicode (lone surrogate escape)") from None
