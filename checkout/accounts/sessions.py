"""Browser sessions: server-side sessions behind a signed cookie, and the record of a sign-in.
Failed sign-ins are counted in `checkout.accounts.lockout`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from checkout.accounts.users import get_user, is_active
from checkout.core import audit
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.tokens import random_token, sha256


def login_succeeded(edge: "Edge", user: Any, ip: str | None, via: str = "browser",
                    new_hash: str | None = None) -> None:
    with atomic(edge.db):
        if new_hash:
            edge.db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user["id"]))
        audit.record(edge, "user.login", actor_id=user["id"], subject_id=user["id"], ip=ip, via=via)


def signed_in_at(edge: "Edge", session_id: str | None) -> float | None:
    """When the session (by its stored id) was created, i.e. when its user last typed a password."""
    if not session_id:
        return None
    row = edge.db.execute("SELECT created_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return parse_iso(row["created_at"]) if row else None


def create_session(edge: "Edge", user_id: int, ip: str | None, user_agent: str | None) -> str:
    """A new server-side session; returns the raw id for the (signed) cookie."""
    raw = random_token(32)
    now = edge.clock()
    edge.db.execute(
        "INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, ip, user_agent) VALUES (?,?,?,?,?,?,?)",
        (sha256(raw), user_id, iso(now), iso(now + edge.settings.SESSION_DAYS * 86400), iso(now), ip,
         (user_agent or "")[:300]))
    return raw


def load_session(edge: "Edge", raw: str | None) -> tuple[sqlite3.Row, sqlite3.Row] | None:
    if not raw:
        return None
    session = edge.db.execute("SELECT * FROM sessions WHERE id = ?", (sha256(raw),)).fetchone()
    if session is None:
        return None
    now = edge.clock()
    if parse_iso(session["expires_at"]) <= now:
        edge.db.execute("DELETE FROM sessions WHERE id = ?", (session["id"],))
        return None
    user = get_user(edge, session["user_id"])
    if not is_active(user):
        return None
    if now - parse_iso(session["last_seen_at"]) > 300:
        edge.db.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (iso(now), session["id"]))
    return session, user


def end_session(edge: "Edge", raw: str | None) -> None:
    if raw:
        edge.db.execute("DELETE FROM sessions WHERE id = ?", (sha256(raw),))


def end_all_sessions(edge: "Edge", user_id: int, keep_raw: str | None = None) -> int:
    keep = sha256(keep_raw) if keep_raw else ""
    cur = edge.db.execute("DELETE FROM sessions WHERE user_id = ? AND id != ?", (user_id, keep))
    edge.db.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                    (edge.clock.iso(), user_id))
    return cur.rowcount
