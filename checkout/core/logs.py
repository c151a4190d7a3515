"""JSON logs through structlog: one line per event, request id on every line, secrets redacted.

Output goes to stderr and, when LOG_FILE is set, to a file rotated at midnight keeping 30
days. The redaction processor drops the value of any key that looks like a secret, at any
depth, so a careless `log.info(..., headers=...)` still leaks nothing.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from typing import Any

import structlog

from checkout.core.redact import redact
from checkout.core.sentry import capture_processor


def redact_processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


_HANDLER_TAG = "_digitaldock_handler"


def configure(level: str = "INFO", log_file: str = "", stream: Any = None) -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_processor,
        structlog.processors.format_exc_info,
    ]

    # Our own exceptions go to Sentry (when started) before format_exc_info turns them into text.
    # filter_by_level first: an event below the level is dropped before any processor builds it.
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared[:-1], capture_processor, shared[-1], structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(sort_keys=True), foreign_pre_chain=shared)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_TAG, False):
            root.removeHandler(h)
            h.close()
    handlers: list[logging.Handler] = [logging.StreamHandler(stream or sys.stderr)]
    if log_file:
        handlers.append(logging.handlers.TimedRotatingFileHandler(
            log_file, when="midnight", backupCount=30, encoding="utf-8", utc=True))
    for h in handlers:
        setattr(h, _HANDLER_TAG, True)
        h.setFormatter(formatter)
        root.addHandler(h)
    root.setLevel(level.upper())
    # uvicorn's own access log would repeat every request without the request id; ours replaces it.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
