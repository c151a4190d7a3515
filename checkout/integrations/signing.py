"""Signatures of outgoing webhooks: HMAC-SHA256 over `<timestamp>.<body>`.

Each delivery carries `DigitalDock-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`: one `v1`
per valid secret (two while a rotated secret overlaps the new one). A receiver recomputes the
HMAC with its secret over the timestamp, a dot and the raw body, compares in constant time with
any `v1`, and refuses a timestamp older than its replay window (5 minutes in the documented
snippets, docs/api.md), so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "DigitalDock-Signature"
TOLERANCE_SECONDS = 300


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={digest(s, timestamp, body)}" for s in secrets)])


def verify(secret: str, signature: str, body: bytes, now: float, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does (the Python snippet in docs/api.md does the same)."""
    parts = [p.split("=", 1) for p in signature.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit() or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = digest(secret, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
