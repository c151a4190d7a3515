"""Accounts: registration, email verification, sessions, login with lockout, passwords, API tokens.

Password hashing is CPU-heavy, so the web layer hashes and verifies in a worker thread and
passes the results here; every function in this module only touches the database and runs on
the event loop (or in the CLI), one transaction per change, emails queued in that same
transaction.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any, Iterable

from . import audit, consent, outbox, passwords
from .clock import iso, parse_iso
from .db import atomic
from .errors import (AccountDisabled, AccountLocked, Conflict, InvalidCredentials, InvalidToken,
                     ValidationFailed)
from .tokens import random_token, sha256

if TYPE_CHECKING:
    from .context import Edge

ROLES = ("buyer", "seller", "admin")
EMAIL = re.compile(r"^[^@\s<>\"'(),;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")
DUMMY_HASH_PASSWORD = "not-a-real-password-just-for-timing"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_registration(edge: "Edge", email: str, password: str, display_name: str, role: str,
                       accepted: Iterable[str]) -> tuple[str, str, list]:
    """Validate everything except uniqueness; return (email, display name, documents accepted)."""
    email = normalize_email(email)
    display_name = (display_name or "").strip()
    errors: dict[str, str] = {}
    if not EMAIL.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    if not 2 <= len(display_name) <= 80 or any(ord(c) < 32 for c in display_name):
        errors["display_name"] = "Enter a name of 2 to 80 characters."
    if role not in ("buyer", "seller"):
        errors["role"] = "Choose buyer or seller."
    why = passwords.check_policy(password or "", edge.settings.PASSWORD_MIN_LENGTH, email, display_name)
    if why:
        errors["password"] = why
    if errors:
        raise ValidationFailed(fields=errors)
    docs = consent.check_accepted(edge, role, accepted)
    if edge.db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
        raise Conflict("An account with this email address already exists. Sign in or reset your password.",
                       code="email_taken", fields={"email": "This email address is already registered."})
    return email, display_name, docs


def create_user(edge: "Edge", email: str, display_name: str, role: str, password_hash: str,
                docs: Iterable[Any] = (), ip: str | None = None, verified: bool = False,
                send_verification: bool = True, actor_id: int | None = None) -> int:
    now = edge.clock.iso()
    try:
        with atomic(edge.db):
            cur = edge.db.execute(
                "INSERT INTO users (email, display_name, password_hash, role, created_at, email_verified_at,"
                " password_changed_at) VALUES (?,?,?,?,?,?,?)",
                (normalize_email(email), display_name, password_hash, role, now, now if verified else None, now))
            user_id = int(cur.lastrowid)
            consent.record(edge, user_id, docs, ip)
            audit.record(edge, "user.registered" if actor_id is None else "user.created_by_cli",
                         actor_id=actor_id if actor_id is not None else user_id, subject_id=user_id, ip=ip, role=role)
            if send_verification and not verified:
                queue_verification(edge, user_id, email, display_name)
    except sqlite3.IntegrityError:
        raise Conflict("An account with this email address already exists.", code="email_taken",
                       fields={"email": "This email address is already registered."}) from None
    return user_id


def queue_verification(edge: "Edge", user_id: int, email: str, name: str) -> None:
    token = edge.tokens.dumps("verify", {"u": user_id, "e": normalize_email(email)})
    outbox.enqueue(edge, "verify", email, user_id, name=name, hours=edge.settings.VERIFY_TOKEN_HOURS,
                   link=f"{edge.settings.CHECKOUT_URL}/verify?token={token}")


def get_user(edge: "Edge", user_id: int) -> sqlite3.Row | None:
    return edge.db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def get_by_email(edge: "Edge", email: str) -> sqlite3.Row | None:
    return edge.db.execute("SELECT * FROM users WHERE email = ?", (normalize_email(email),)).fetchone()


def is_active(user: Any) -> bool:
    return user is not None and user["disabled_at"] is None and user["deletion_requested_at"] is None


def verify_email(edge: "Edge", token: str) -> tuple[sqlite3.Row, bool]:
    """Mark the address verified; returns (user, newly_verified). Reusing a link is harmless."""
    data = edge.tokens.loads("verify", token, edge.settings.VERIFY_TOKEN_HOURS * 3600)
    user = get_user(edge, int(data.get("u", 0))) if str(data.get("u", "")).isdigit() else None
    if user is None or user["email"] != data.get("e") or not is_active(user):
        raise InvalidToken()
    if user["email_verified_at"]:
        return user, False
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET email_verified_at = ? WHERE id = ?", (edge.clock.iso(), user["id"]))
        audit.record(edge, "user.email_verified", actor_id=user["id"], subject_id=user["id"])
    return get_user(edge, user["id"]), True


# --- email change -----------------------------------------------------------------------------

def request_email_change(edge: "Edge", user: Any, new_email: str, ip: str | None) -> str:
    """Send a confirmation link to the new address and a notice to the old one.

    Nothing changes until the new address is confirmed, so a typo cannot lock anyone out; the
    link carries the old address, so it dies if the email changes by another way first.
    """
    new_email = normalize_email(new_email)
    if not EMAIL.match(new_email) or len(new_email) > 254:
        raise ValidationFailed(fields={"email": "Enter a valid email address."})
    if new_email == user["email"]:
        raise ValidationFailed(fields={"email": "This is already your email address."})
    if edge.db.execute("SELECT 1 FROM users WHERE email = ?", (new_email,)).fetchone():
        raise Conflict("Another account already uses this email address.", code="email_taken",
                       fields={"email": "Another account already uses this email address."})
    token = edge.tokens.dumps("email_change", {"u": user["id"], "o": user["email"], "n": new_email})
    with atomic(edge.db):
        audit.record(edge, "user.email_change_requested", actor_id=user["id"], subject_id=user["id"], ip=ip)
        outbox.enqueue(edge, "email_change", new_email, user["id"], name=user["display_name"],
                       hours=edge.settings.VERIFY_TOKEN_HOURS,
                       link=f"{edge.settings.CHECKOUT_URL}/account/email/confirm?token={token}")
        outbox.enqueue(edge, "email_changed", user["email"], user["id"], name=user["display_name"],
                       new_email=new_email)
    return new_email


def confirm_email_change(edge: "Edge", token: str, ip: str | None) -> sqlite3.Row:
    data = edge.tokens.loads("email_change", token or "", edge.settings.VERIFY_TOKEN_HOURS * 3600)
    uid = data.get("u")
    user = get_user(edge, uid) if isinstance(uid, int) else None
    if user is None or not is_active(user) or user["email"] != data.get("o") or not data.get("n"):
        raise InvalidToken()
    with atomic(edge.db):
        try:
            edge.db.execute("UPDATE users SET email = ?, email_verified_at = ? WHERE id = ?",
                            (data["n"], edge.clock.iso(), user["id"]))
        except sqlite3.IntegrityError:
            raise Conflict("Another account now uses this email address.", code="email_taken") from None
        audit.record(edge, "user.email_changed", actor_id=user["id"], subject_id=user["id"], ip=ip,
                     old_email=data["o"], new_email=data["n"])
    return get_user(edge, user["id"])


# --- login ----------------------------------------------------------------------------------

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


# --- sessions -------------------------------------------------------------------------------

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


# --- passwords ------------------------------------------------------------------------------

def check_new_password(edge: "Edge", user: Any, password: str) -> None:
    why = passwords.check_policy(password or "", edge.settings.PASSWORD_MIN_LENGTH, user["email"], user["display_name"])
    if why:
        raise ValidationFailed(fields={"password": why})


def set_password(edge: "Edge", user: Any, password_hash: str, ip: str | None, keep_session: str | None,
                 action: str) -> None:
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET password_hash = ?, password_changed_at = ?, failed_logins = 0,"
                        " locked_until = NULL WHERE id = ?", (password_hash, edge.clock.iso(), user["id"]))
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


# --- API refresh tokens ---------------------------------------------------------------------

def issue_refresh(edge: "Edge", user_id: int, family: str | None = None) -> str:
    token_id, secret = random_token(9), random_token(32)
    now = edge.clock()
    edge.db.execute(
        "INSERT INTO refresh_tokens (id, token_hash, family, user_id, created_at, expires_at) VALUES (?,?,?,?,?,?)",
        (token_id, sha256(secret), family or random_token(9), user_id, iso(now),
         iso(now + edge.settings.REFRESH_TOKEN_DAYS * 86400)))
    return f"{token_id}.{secret}"


def rotate_refresh(edge: "Edge", token: str, ip: str | None) -> tuple[sqlite3.Row, str]:
    """Spend a refresh token and return (user, its successor). Reuse revokes the whole family."""
    token_id, _, secret = (token or "").partition(".")
    with atomic(edge.db):
        row = edge.db.execute("SELECT * FROM refresh_tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None or not secret or sha256(secret) != row["token_hash"]:
            raise InvalidToken("The refresh token is invalid.")
        if row["used_at"] is not None:
            edge.db.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
                            (edge.clock.iso(), row["family"]))
            audit.record(edge, "api.token_reuse_detected", subject_id=row["user_id"], ip=ip)
            reuse = True
        else:
            reuse = False
        if not reuse:
            if row["revoked_at"] is not None or parse_iso(row["expires_at"]) <= edge.clock():
                raise InvalidToken("The refresh token has expired or was revoked.")
            user = get_user(edge, row["user_id"])
            if not is_active(user):
                raise AccountDisabled()
            edge.db.execute("UPDATE refresh_tokens SET used_at = ? WHERE id = ?", (edge.clock.iso(), token_id))
            return user, issue_refresh(edge, user["id"], row["family"])
    raise InvalidToken("This refresh token was already used; every token of this sign-in has been revoked.",
                       code="token_reused")


def revoke_refresh(edge: "Edge", token: str) -> None:
    token_id, _, secret = (token or "").partition(".")
    row = edge.db.execute("SELECT * FROM refresh_tokens WHERE id = ?", (token_id,)).fetchone()
    if row is None or sha256(secret) != row["token_hash"]:
        raise InvalidToken("The refresh token is invalid.")
    edge.db.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
                    (edge.clock.iso(), row["family"]))


def set_role(edge: "Edge", user_id: int, role: str, actor_id: int | None) -> None:
    if role not in ROLES:
        raise ValidationFailed(fields={"role": f"Role must be one of {', '.join(ROLES)}."})
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
        audit.record(edge, "user.role_changed", actor_id=actor_id, subject_id=user_id, role=role)
