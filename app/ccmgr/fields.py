"""The one type check for untrusted documents: request bodies, the config file and
replication bundles all check their fields here (and say the same words for a type)."""

from __future__ import annotations

from typing import Any

from ccmgr.errors import InvalidRequest

TYPE_NAMES = {str: "a string", bool: "true or false", int: "an integer", dict: "an object",
              list: "an array"}


def type_ok(value: Any, kind: type) -> bool:
    """``isinstance``, except that a bool is not an int (JSON/YAML true is 1 to Python:
    a port of ``true`` is still an error)."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def type_name(kind: type) -> str:
    return TYPE_NAMES.get(kind, kind.__name__)


def check_fields(body: dict, spec: dict[str, type], *, where: str = "",
                 ignored: tuple[str, ...] = ()) -> dict[str, Any]:
    """Type-check ``body`` against ``spec``; unknown fields are refused (a typo is an error).

    ``null`` counts as absent. ``ignored`` fields are accepted and dropped.
    """
    out: dict[str, Any] = {}
    for name, value in body.items():
        label = f"{where}.{name}" if where else name
        if name in ignored:
            continue
        kind = spec.get(name)
        if kind is None:
            raise InvalidRequest(f'unknown field "{label}"')
        if value is None:
            continue
        if not type_ok(value, kind):
            raise InvalidRequest(f'field "{label}" must be {type_name(kind)}')
        out[name] = value
    return out
