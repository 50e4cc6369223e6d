"""JSON in and out of the worker: controller replies and cached records decoded, reply
bodies and kept list items encoded, all by msgspec (already the typed decoder of
``cmon.wire``), with the standard library's rules kept.

Decoding dominates the CPU time of a cold fan-out (hundreds of controllers x ~220 KiB
each, arriving within milliseconds): msgspec decodes such a reply several times faster
than ``json.loads`` into the same plain dicts and lists, integers beyond 64 bits
included (exact, where orjson, used here before, made them floats). Where it is stricter
than ``json`` (NaN/Infinity literals, numbers beyond a float, UTF-16/32 input), the
standard decoder is tried second, so no reply that used to decode is refused.

Encoding writes a clusters/list page several times faster than ``json.dumps`` and embeds
an ``encoded`` item as it is, so a page of items encoded once per data version is a join,
not a re-encoding (issue 17). The output is the JSON of ``json.dumps(...,
ensure_ascii=False)``, compact; NaN and Infinity are written as null where ``json.dumps``
would write tokens that are not JSON.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def loads(data: bytes | str | memoryview) -> Any:
    """Decode ``data``; raises ``ValueError`` (like ``json.loads``) when it is not JSON."""
    try:
        return _decoder.decode(data)
    except msgspec.DecodeError:  # ValidationError (a number beyond a float) included
        return json.loads(bytes(data) if isinstance(data, memoryview) else data)


def dumps(value: Any) -> bytes:
    """Compact JSON bytes of ``value`` (dicts, lists, scalars and ``encoded`` items)."""
    return _encoder.encode(value)


def encoded(value: Any) -> msgspec.Raw:
    """``value`` encoded now, to be embedded as it is in later ``dumps``."""
    return msgspec.Raw(dumps(value))
