"""Logging to stderr and the configured logfile (0640, never world-readable).

WatchedFileHandler reopens the file after logrotate moves it, and several gunicorn
workers can append to one file safely (each record is one write in append mode).
Audit lines go to the ``ccmgr.audit`` logger with cmon-proxy's ``[AUDIT]`` prefix.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from typing import Protocol

from ccmgr.logescape import EscapeControls
from ccmgr.logjson import JsonFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
FORMATS = ("text", "json")
audit_log = logging.getLogger("ccmgr.audit")
ACCESS_LOGGER = "ccmgr.access"  # accesslog's records


def _open_private(path: str) -> None:
    """Create the log 0640: group-readable for operators in the service group, never world.
    Explicit chmod, because a service UMask (0077) would otherwise make it 0600."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    created = not os.path.exists(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        mode = os.fstat(fd).st_mode & 0o777
        if created or mode & 0o007:
            os.fchmod(fd, 0o640)
    finally:
        os.close(fd)


class FormatOnce(logging.Formatter):
    """``inner``'s text of a record, made once for all the handlers that share this
    formatter (stderr and the logfile write the same line: one access record per request
    was formatted twice, its time too)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        made = record.__dict__.get("ccmgr_text")
        if made is not None and made[0] is self:
            return made[1]
        text = self.inner.format(record)
        record.ccmgr_text = (self, text)
        return text


class NotAccess(logging.Filter):
    """Access records stay out of stderr (the journal) when the logfile has them: one per
    request floods the journal, whose rate limit for a service then drops its error lines
    too, and costs every request a second flushed write (docs/benchmarks.md, "Fifth
    sitting"). Without a logfile they go to stderr, so none is lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name != ACCESS_LOGGER


def configure(logfile: str | None, *, level: str = "INFO", stderr: bool = True,
              fmt: str = "text", node: str = "") -> None:
    """Idempotent: replaces ccmgr's handlers, leaves other loggers alone. ``fmt`` is the
    config's ``log_format`` (``json``: one object per line, ``logjson``)."""
    logger = logging.getLogger("ccmgr")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level.upper())
    logger.propagate = False
    formatter = FormatOnce(JsonFormatter(node) if fmt == "json" else logging.Formatter(FORMAT))
    escaping = EscapeControls()  # a record is one line, whatever its fields hold
    file_handler, file_problem = None, ""
    if logfile:
        try:
            _open_private(logfile)
            file_handler = logging.handlers.WatchedFileHandler(logfile, encoding="utf-8")
        except OSError as exc:  # said once the stderr handler is there to carry it
            file_problem = f"cannot write log file {logfile}: {exc.strerror}"
        else:
            file_handler.setFormatter(formatter)
            file_handler.addFilter(escaping)
    if stderr:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream.addFilter(escaping)
        if file_handler is not None:
            stream.addFilter(NotAccess())
        logger.addHandler(stream)
    if file_handler is not None:
        logger.addHandler(file_handler)
    if file_problem:
        logger.warning("%s", file_problem)


class NodeConfig(Protocol):  # what of config.Config this needs (no import: a leaf)
    logfile: str
    node_name: str
    doc: dict


def configure_for(config: NodeConfig, *, stderr: bool = True) -> None:
    """``configure`` with a node's logfile, ``log_format`` and name (``config.Config``)."""
    configure(config.logfile, fmt=config.doc.get("log_format") or "text",
              node=config.node_name, stderr=stderr)


def audit(message: str, *args: object) -> None:
    audit_log.info("[AUDIT] " + message, *args)
