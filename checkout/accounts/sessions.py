"""Browser sessions and sign-in: server-side sessions behind a signed cookie, failed sign-ins
counted towards a lockout, successful ones reset it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from checkout.accounts.errors import AccountDisabled, AccountLocked
from checkout.accounts.users import get_user, is_active
from checkout.core import audit, outbox
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.tokens import random_token, sha256


def check_can_login(edge: "Edge", user: Any) -> None:
    if user is None:
        return
    if user["locked_until"] and parse_iso(user["locked_until"]) > edge.clock():
        raise AccountLocked()
    if not is_active(user):
        raise AccountDisabled()


def login_failed(edge: "Edge", user: Any, email: str, ip: str | None) -> None:
    s = edge.settings
    with atomic(edge.db):
        if user is None:
            audit.record(edge, "user.login_failed", ip=ip, reason="unknown_email")
            return
        failures = user["failed_logins"] + 1
        audit.record(edge, "user.login_failed", subject_id=user["id"], ip=ip, reason="bad_password", failures=failures)
        if failures >= s.LOCKOUT_THRESHOLD:
            edge.db.execute("UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                            (edge.clock.iso(s.LOCKOUT_MINUTES * 60), user["id"]))
            audit.record(edge, "user.locked", subject_id=user["id"], ip=ip, minutes=s.LOCKOUT_MINUTES)
            outbox.enqueue(edge, "lockout", user["email"], user["id"], name=user["display_name"],
                           attempts=failures, minutes=s.LOCKOUT_MINUTES)
        else:
            edge.db.execute("UPDATE users SET failed_logins = ? WHERE id = ?", (failures, user["id"]))


def login_succeeded(edge: "Edge", user: Any, ip: str | None, via: str = "browser",
                    new_hash: str | None = None) -> None:
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (user["id"],))
        if new_hash:
            edge.db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user["id"]))
        audit.record(edge, "user.login", actor_id=user["id"], subject_id=user["id"], ip=ip, via=via)


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
