"""Errors to Sentry when SENTRY_DSN is set, with personal data scrubbed before anything leaves.

`init(dsn, environment)` starts sentry-sdk with the Starlette (ASGI) integration, so every
event carries the request it happened in (method, path, the headers that are safe), and with
personal data collection off (sentry-sdk's `send_default_pii` default; the option itself is
deprecated in 2.75), no local variables in stack frames and no request bodies.

What reaches Sentry:

- exceptions the edge logs with ``log.exception(...)`` (an unexpected error in a request, which
  the browser sees as the themed ``internal_error`` page; a failing outbox or retention
  round): `capture_processor` is a structlog processor that hands the exception to Sentry
  while it is still live, before the log line turns it into text;
- exceptions that escape the app, through the Starlette integration;
- alerts (`checkout.alerts`), as messages.

Log lines themselves are not sent as events or breadcrumbs (the JSON logs are the record).

`scrub` is the `before_send` hook and runs on every event: it drops the user, cookies, request
bodies, query strings and the WSGI/ASGI environment; keeps only harmless request headers; and in
every remaining string (exception values, messages, URLs, breadcrumbs, tags, extra) replaces
email addresses, IPv4/IPv6 addresses, bearer/basic credentials, JWTs and the values of
``token=``, ``password=``, ``secret=``-style parameters. Values under keys that look secret
(`checkout.core.redact.SECRET_KEYS`, plus email and IP keys) are replaced entirely.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from checkout.core.redact import SECRET_KEYS

FILTERED = "[Filtered]"

# Request headers worth keeping: none of them identifies a person or carries a credential.
SAFE_HEADERS = frozenset({"accept", "accept-encoding", "accept-language", "content-length", "content-type",
                          "host", "user-agent", "x-request-id", "origin", "referer"})

PERSONAL_KEYS = (*SECRET_KEYS, "email", "ip_address", "remote_addr", "client_ip", "forwarded", "real-ip",
                 "real_ip", "phone", "username")

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + FILTERED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), FILTERED),
    (re.compile(r"(?i)\b([\w-]*(?:token|password|passwd|secret|signature|api_?key|session|csrf)[\w-]*=)"
                r"[^&\s#'\"<>]+"), r"\1" + FILTERED),
    (re.compile(r"[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    (re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"), "[ip]"),
    (re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])"
                r"|(?<![\w:])(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?(?![\w:])"),
     "[ip]"),
)


def scrub_text(text: str) -> str:
    """`text` with emails, IP addresses, credentials and secret parameters replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _personal_key(key: Any) -> bool:
    return isinstance(key, str) and any(p in key.lower() for p in PERSONAL_KEYS)


def scrub_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if depth > 20:  # nothing real nests this deep: drop it rather than send it unread
        return FILTERED if isinstance(value, (dict, list, tuple)) else value
    if isinstance(value, dict):
        return {k: (FILTERED if _personal_key(k) and v not in (None, "") else scrub_value(v, depth + 1))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_value(v, depth + 1) for v in value]
    return value


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    for key in ("cookies", "data", "query_string", "env"):
        request.pop(key, None)
    if "url" in request and isinstance(request["url"], str):
        request["url"] = request["url"].split("?", 1)[0].split("#", 1)[0]
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {k: v for k, v in headers.items()
                              if isinstance(k, str) and k.lower() in SAFE_HEADERS and isinstance(v, str)}
    return request


def scrub(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Sentry's `before_send`: the event with every piece of personal data removed."""
    event.pop("user", None)
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = _scrub_request(request)
    return scrub_value(event)


def capture_processor(_logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: send a logged exception (``log.exception``/``exc_info``) to Sentry.

    Runs before the exception is rendered as text; a no-op while Sentry is not started.
    """
    exc_info = event.get("exc_info")
    if not exc_info or method not in ("error", "exception", "critical"):
        return event
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        return event
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if exc_info and exc_info[0] is not None:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("log_event", str(event.get("event", "")))
            sentry_sdk.capture_exception(exc_info)
    return event


def init(dsn: str, environment: str) -> bool:
    """Start Sentry for `dsn`; False (and nothing started) when the DSN is empty."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    # send_default_pii is off by default; sentry-sdk 2.75 deprecates passing it (a warning), so
    # it is left unset and a test checks the client still refuses personal data.
    sentry_sdk.init(
        dsn=dsn, environment=environment, before_send=scrub,
        include_local_variables=False, max_request_body_size="never",
        integrations=[StarletteIntegration(), LoggingIntegration(level=None, event_level=None)],
    )
    return True
