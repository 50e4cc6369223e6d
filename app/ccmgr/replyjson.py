"""JSON bodies of the aggregate replies (``resources.aggregates``), and list items kept
already encoded (``views.clustertable``).

msgspec's encoder writes a clusters/list page several times faster than ``json.dumps``,
and embeds a ``Raw`` item as it is: a page of items encoded once per data version is then
a join, not a re-encoding (issue 17). Its output is the same JSON as ``json.dumps(...,
ensure_ascii=False)`` but compact; it encodes integers beyond 64 bits, and writes NaN and
Infinity as null where ``json.dumps`` would write tokens that are not JSON.
"""

from __future__ import annotations

from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()


def encode(value: Any) -> bytes:
    """The reply body of ``value`` (dicts, lists, scalars and ``encoded`` items)."""
    return _encoder.encode(value)


def encoded(value: Any) -> msgspec.Raw:
    """``value`` encoded now, to be embedded as it is in later replies."""
    return msgspec.Raw(_encoder.encode(value))
