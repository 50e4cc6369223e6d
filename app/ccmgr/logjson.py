"""``log_format: json``: one JSON object per line.

Keys: ``time`` (RFC 3339, ms), ``level``, ``logger``, ``node``, ``pid``, ``request_id``
(when the record was made while a request was handled), ``message``; access records add
``method``, ``route``, ``status``, ``duration_ms``, ``user``, ``client``; audit records
``audit: true``; errors ``exception``. The message has already passed ``EscapeControls``,
and JSON escapes what is left, so a record stays one line.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from ccmgr import requestid


class JsonFormatter(logging.Formatter):
    def __init__(self, node: str = "") -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        out: dict = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "node": self.node,
            "pid": record.process,
        }
        rid = requestid.current()
        if rid:
            out["request_id"] = rid
        out["message"] = record.getMessage()
        if record.name == "ccmgr.audit":
            out["audit"] = True
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            out.update(http)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False, default=str)
