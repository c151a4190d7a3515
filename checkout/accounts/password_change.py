"""Changing and resetting passwords. A reset link carries a stamp of the current password, so it
dies the moment the password changes, and its id is spent once.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from checkout.accounts import lockout, passwords
from checkout.accounts.sessions import end_all_sessions
from checkout.accounts.users import get_by_email, get_user, is_active
from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken, ValidationFailed
from checkout.core.tokens import random_token, sha256


def check_new_password(edge: "Edge", user: Any, password: str) -> None:
    why = passwords.check_policy(password or "", edge.settings.PASSWORD_MIN_LENGTH, user["email"], user["display_name"])
    if why:
        raise ValidationFailed(fields={"password": why})


def set_password(edge: "Edge", user: Any, password_hash: str, ip: str | None, keep_session: str | None,
                 action: str) -> None:
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
                        (password_hash, edge.clock.iso(), user["id"]))
        lockout.clear(edge, user["email"])  # whoever set it knew the old password or has the mailbox
        end_all_sessions(edge, user["id"], keep_session)
        audit.record(edge, action, actor_id=user["id"], subject_id=user["id"], ip=ip)
        outbox.enqueue(edge, "password_changed", user["email"], user["id"], name=user["display_name"])


def _stamp(user: Any) -> str:
    """Changes whenever the password does, so a reset link dies with the old password."""
    return sha256(user["password_hash"] + (user["password_changed_at"] or ""))[:16]


def request_reset(edge: "Edge", email: str, ip: str | None) -> None:
    """Queue a reset email if the account exists; the caller answers the same either way."""
    user = get_by_email(edge, email)
    if not is_active(user):
        return
    token = edge.tokens.dumps("reset", {"u": user["id"], "s": _stamp(user), "j": random_token(12)})
    with atomic(edge.db):
        audit.record(edge, "user.password_reset_requested", subject_id=user["id"], ip=ip)
        outbox.enqueue(edge, "reset", user["email"], user["id"], name=user["display_name"],
                       minutes=edge.settings.RESET_TOKEN_MINUTES,
                       link=f"{edge.settings.CHECKOUT_URL}/password-reset/confirm?token={token}")


def check_reset_token(edge: "Edge", token: str) -> tuple[sqlite3.Row, str]:
    data = edge.tokens.loads("reset", token or "", edge.settings.RESET_TOKEN_MINUTES * 60)
    uid, jti = data.get("u"), str(data.get("j", ""))
    user = get_user(edge, uid) if isinstance(uid, int) else None
    if user is None or not is_active(user) or data.get("s") != _stamp(user) or not jti:
        raise InvalidToken()
    if edge.db.execute("SELECT 1 FROM used_tokens WHERE jti = ?", (f"reset:{jti}",)).fetchone():
        raise InvalidToken()
    return user, jti


def complete_reset(edge: "Edge", user: Any, jti: str, password_hash: str, ip: str | None) -> None:
    with atomic(edge.db):
        try:
            edge.db.execute("INSERT INTO used_tokens (jti, used_at) VALUES (?, ?)", (f"reset:{jti}", edge.clock.iso()))
        except sqlite3.IntegrityError:
            raise InvalidToken() from None
        set_password(edge, user, password_hash, ip, None, "user.password_reset")


def claim_guest(edge: "Edge", user: Any, password_hash: str, ip: str | None) -> None:
    """A guest who bought with only an email chooses a password: the address is confirmed by the
    link that brought them here (the receipt), so the account is verified at the same time."""
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, email_verified_at = ? WHERE id = ?",
                        (password_hash, edge.clock.iso(), edge.clock.iso(), user["id"]))
        audit.record(edge, "payment.guest_claimed", actor_id=user["id"], subject_id=user["id"], ip=ip)
