"""ListRequest (cmon-proxy spec §3): parsing, filter matching, ordering and paging. Pure.

Parsing is strict like the rest of ccmgr (unknown fields and wrong types are a 400 with
the error object), and where cmon-proxy crashes (``page`` 0 with ``perPage``) it answers
400 too. Matching follows §3.4 exactly: first filter per key wins, empty record values
pass, exact case-sensitive comparison, tags with ``matchall`` (AND) only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ccmgr.errors import InvalidRequest
from ccmgr.fields import check_fields

MAX_PAGE = 1 << 31


@dataclass(frozen=True)
class Filter:
    key: str = ""
    value: str = ""
    values: tuple[str, ...] = ()
    matchall: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListRequest:
    page: int = 0
    per_page: int = 0
    order: str = ""
    filters: tuple[Filter, ...] = ()
    force_update: bool = False
    with_hosts: bool = False
    force_license_check: bool = False


LIST_FIELDS: dict[str, type] = {"page": int, "perPage": int, "order": str, "filters": list,
                                "force_update": bool, "with_hosts": bool}
STATUS_FIELDS: dict[str, type] = {"filters": list, "force_update": bool}
CONTROLLERS_STATUS_FIELDS: dict[str, type] = {"force_update": bool, "force_license_check": bool}
FILTER_FIELDS: dict[str, type] = {"key": str, "value": str, "values": list, "matchall": list}


def _strings(items: list, where: str) -> tuple[str, ...]:
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise InvalidRequest(f'field "{where}[{index}]" must be a string')
    return tuple(items)


def _filter(raw: Any, index: int) -> Filter:
    where = f"filters[{index}]"
    if not isinstance(raw, dict):
        raise InvalidRequest(f'field "{where}" must be an object')
    fields = check_fields(raw, FILTER_FIELDS, where=where)
    return Filter(key=fields.get("key", ""), value=fields.get("value", ""),
                  values=_strings(fields.get("values", []), f"{where}.values"),
                  matchall=_strings(fields.get("matchall", []), f"{where}.matchall"))


def parse(body: dict | None, spec: dict[str, type] = LIST_FIELDS) -> ListRequest:
    """A request body (None for GET) → ListRequest; raises InvalidRequest (400)."""
    fields = check_fields(body or {}, spec)
    page, per_page = fields.get("page", 0), fields.get("perPage", 0)
    for name, value in (("page", page), ("perPage", per_page)):
        if value < 0 or value > MAX_PAGE:
            raise InvalidRequest(f'field "{name}" must be between 0 and {MAX_PAGE}')
    if per_page > 0 and page < 1:
        raise InvalidRequest('field "page" must be at least 1 when "perPage" is set')
    filters = tuple(_filter(f, i) for i, f in enumerate(fields.get("filters", [])))
    return ListRequest(page=page, per_page=per_page, order=fields.get("order", ""),
                       filters=filters, force_update=fields.get("force_update", False),
                       with_hosts=fields.get("with_hosts", False),
                       force_license_check=fields.get("force_license_check", False))


# -- matching -------------------------------------------------------------------------------
class Match:
    """The §3.4 rules, compiled once per request; every endpoint filters through this.

    The first filter with a key decides for that key; an empty record value passes; the
    first ``tags`` filter with a non-empty ``matchall`` needs every one of its tags.
    """

    __slots__ = ("first", "tags")

    def __init__(self, filters: Sequence[Filter]) -> None:
        self.first: dict[str, tuple[str, frozenset[str]]] = {}
        for f in filters:
            self.first.setdefault(f.key, (f.value, frozenset(f.values)))
        self.tags = next((frozenset(f.matchall) for f in filters
                          if f.key == "tags" and f.matchall), None)

    def value(self, key: str, value: str) -> bool:
        rule = self.first.get(key)
        return rule is None or not value or value == rule[0] or value in rule[1]

    def pairs(self, pairs: Iterable[tuple[str, str]]) -> bool:
        return all(self.value(k, v) for k, v in pairs)

    def tags_ok(self, tags: Iterable[str] | None) -> bool:
        return self.tags is None or self.tags.issubset(tags or ())

    def record(self, fields: dict[str, Callable[[Any], str]],
               tags_of: Callable[[Any], Iterable[str] | None] | None = None
               ) -> Callable[[Any], bool]:
        """A predicate over records whose filter values ``fields`` read (big lists)."""
        checks = [(self.first[key], get) for key, get in fields.items() if key in self.first]
        required = self.tags if tags_of is not None else None
        if not checks and not required:
            return lambda record: True

        def ok(record: Any) -> bool:
            for (value, values), get in checks:
                v = get(record)
                if v and v != value and v not in values:
                    return False
            return not required or required.issubset(tags_of(record) or ())  # type: ignore[misc]

        return ok


def passes(filters: Sequence[Filter], key: str, value: str) -> bool:
    return Match(filters).value(key, value)


def tags_pass(filters: Sequence[Filter], tags: Iterable[str] | None) -> bool:
    return Match(filters).tags_ok(tags)


def all_pass(filters: Sequence[Filter], pairs: Iterable[tuple[str, str]]) -> bool:
    return Match(filters).pairs(pairs)


def matcher(filters: Sequence[Filter], fields: dict[str, Callable[[Any], str]],
            tags_of: Callable[[Any], Iterable[str] | None] | None = None
            ) -> Callable[[Any], bool]:
    return Match(filters).record(fields, tags_of)


# -- ordering and paging ----------------------------------------------------------------------
def parse_order(order: str) -> tuple[str, bool]:
    """``"created desc"`` → ("created", True); anything but desc is ascending."""
    tokens = order.split(" ")
    name = tokens[0] if tokens else ""
    desc = len(tokens) > 1 and tokens[1].lower() == "desc"
    return name, desc


def sort_key(order: str, keys: dict[str, Callable[[Any], Any]],
             default: tuple[Callable[[Any], Any], bool | None] | None = None
             ) -> tuple[str | None, Callable[[Any], Any] | None, bool]:
    """(field name, key, descending) for ``order``: a known field; unknown/empty →
    ``default`` (key, forced direction or None to honour the request; name None), else no
    key (unchanged order)."""
    name, desc = parse_order(order)
    key = keys.get(name)
    if key is not None:
        return name, key, desc
    if default is None:
        return None, None, desc
    key, forced = default
    return None, key, desc if forced is None else forced


def sort_items(items: list[Any], order: str, keys: dict[str, Callable[[Any], Any]],
               default: tuple[Callable[[Any], Any], bool | None] | None = None) -> list[Any]:
    """``items`` in the order ``sort_key`` gives. Python's sort is stable (cmon-proxy's
    isn't)."""
    _, key, desc = sort_key(order, keys, default)
    return items if key is None else sorted(items, key=key, reverse=desc)


def paginate(items: list[Any], req: ListRequest) -> list[Any]:
    if req.per_page <= 0:
        return items
    start = min((req.page - 1) * req.per_page, len(items))
    return items[start:min(start + req.per_page, len(items))]


def page_body(items_key: str, items: list[Any], req: ListRequest, total: int,
              last_updated: Any) -> dict:
    """{page?, perPage?, total?, <items>, last_updated}: zero page/perPage/total omitted."""
    body: dict[str, Any] = {}
    if req.page:
        body["page"] = req.page
    if req.per_page:
        body["perPage"] = req.per_page
    if total:
        body["total"] = total
    body[items_key] = items
    body["last_updated"] = last_updated
    return body


def list_reply(items_key: str, items: list[Any], req: ListRequest, last_updated: Any,
               order: str, keys: dict[str, Callable[[Any], Any]],
               default: tuple[Callable[[Any], Any], bool | None] | None = None,
               build: Callable[[Any], dict] | None = None) -> dict:
    """The ``page_body`` of ``items`` sorted and paged.

    With ``build``, ``items`` are raw entries turned into reply items only after paging
    (big lists: building 10 000 host items to return 50 would dominate the request)."""
    ordered = sort_items(items, order, keys, default)
    page = paginate(ordered, req)
    return page_body(items_key, [build(e) for e in page] if build is not None else page, req,
                     len(ordered), last_updated)
