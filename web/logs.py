"""Tokens never reach a log: the paths /l/<token> and /calendar/<token>.ics are logged redacted.

A token is a capability (whoever holds it acts as its person), so gunicorn's access log, its error
log and Flask's own logging all go through `redact`.
"""

from __future__ import annotations

import logging
import re

from flask import Flask
from gunicorn.glogging import Logger

# The token part of the two paths that carry one, wherever it appears in a line (a request line,
# a URL, a referer).
_TOKEN_PATH = re.compile(r"(/l/|/calendar/)[^\s/?\"'#]+?(\.ics)?(?=[\s?\"'#]|$)")


def redact(text: str) -> str:
    """`text` with every link or feed token replaced by `[redacted]`."""
    return _TOKEN_PATH.sub(lambda m: f"{m.group(1)}[redacted]{m.group(2) or ''}", text)


class RedactingFilter(logging.Filter):
    """Formats a record's message, then keeps only its redacted text (the arguments may hold a token)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a broken format: the logging module reports it
            return True
        record.msg, record.args = redact(message), None
        return True


class RedactingLogger(Logger):
    """gunicorn's logger with tokens redacted from the access log and the error log."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            log.addFilter(RedactingFilter())

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


def install_redaction(app: Flask) -> None:
    """Flask's logger and werkzeug's (a test or a debugger may use it) redact tokens too."""
    for logger in (app.logger, logging.getLogger("werkzeug")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
