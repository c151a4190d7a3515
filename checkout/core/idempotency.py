"""Idempotency keys of the API's POSTs that create something: the same key (per account) gets
the same answer, and creates nothing more. A key reused for a different request is refused.
Keys are forgotten after `KEEP_SECONDS` by the retention job (`prune`).
"""

from __future__ import annotations

from typing import Any

from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict

KEEP_SECONDS = 86400


def replay(edge: Edge, user_id: int, key: str, method: str, path: str, fingerprint: str) -> tuple[int, str] | None:
    """(status, body) stored for this key, None for a new key; 409 for a key used differently."""
    found = edge.db.execute("SELECT * FROM idempotency_keys WHERE user_id = ? AND key = ?", (user_id, key)).fetchone()
    if found is None:
        return None
    if (found["method"], found["path"], found["request_hash"]) != (method, path, fingerprint):
        raise Conflict("This Idempotency-Key was used for a different request.", code="idempotency_key_reused")
    return int(found["status"]), str(found["body"])


def remember(edge: Edge, user_id: int, key: str, method: str, path: str, fingerprint: str, status: int,
             body: str) -> None:
    with atomic(edge.db):
        edge.db.execute("INSERT OR IGNORE INTO idempotency_keys (user_id, key, method, path, request_hash, status,"
                        " body, created_at) VALUES (?,?,?,?,?,?,?,?)",
                        (user_id, key, method, path, fingerprint, status, body, edge.clock.iso()))


def prune(edge: Any, now: float) -> dict[str, int]:
    """Retention step: keys older than a day are forgotten."""
    cur = edge.db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (edge.clock.iso(-KEEP_SECONDS),))
    return {"idempotency_keys": cur.rowcount}
