"""What counts as a secret, for the logs and for Sentry alike."""

from __future__ import annotations

from typing import Any

SECRET_KEYS = ("password", "token", "secret", "cookie", "authorization", "signature", "csrf",
               "api_key", "apikey", "session", "set-cookie", "dsn", "license_key")
REDACTED = "[redacted]"


def is_secret(key: str) -> bool:
    k = key.lower()
    return any(s in k for s in SECRET_KEYS)


def redact(value: Any, depth: int = 0) -> Any:
    """`value` with the value of every key that looks secret replaced, at any depth."""
    if depth > 5:
        return value
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and is_secret(k) and isinstance(v, (str, bytes, dict, list, tuple))
                    else redact(v, depth + 1)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, depth + 1) for v in value)
    return value
