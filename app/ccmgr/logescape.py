"""Control characters never reach a log line raw.

A newline in a login user name wrote a line of the caller's choosing into ccmgr.log, and
NUL bytes went in as they were. This filter, on every ccmgr handler, rewrites each
record once before any formatter sees it: the message with its arguments (user names,
addresses, user agents, exception texts quoted in it) has every control character
escaped (``\\n``, ``\\x00``, ``\\u2028``), so a record is exactly one line; a traceback
keeps one line per frame, each of its lines starting with ``| `` so that nothing in
an exception message can pass for a record of its own. A JSON formatter would get the
same escaped fields.
"""

from __future__ import annotations

import logging
import re

# C0, DEL, C1, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """``text`` with every control character written as an escape sequence."""
    return _CONTROL.sub(_escaped, text)


def _block(text: str) -> str:
    return "\n".join("| " + escape(line) for line in text.split("\n"))


class EscapeControls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "ccmgr_escaped", False):
            return True  # several handlers share one record
        record.msg, record.args = escape(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _block(record.exc_text)
        if record.stack_info:
            record.stack_info = _block(record.stack_info)
        record.ccmgr_escaped = True
        return True
