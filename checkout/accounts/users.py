"""Users: registration, email verification, email change and roles.

Every function here only touches the database (password hashing happens in the web layer's
worker threads, which pass hashes in), one transaction per change, its emails queued in that
same transaction.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Iterable

from checkout.accounts import consent, passwords
from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, InvalidToken, ValidationFailed

ROLES = ("buyer", "seller", "admin")


EMAIL = re.compile(r"^[^@\s<>\"'(),;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


DUMMY_HASH_PASSWORD = "not-a-real-password-just-for-timing"
NOTICE_INTERVAL_SECONDS = 3600  # one "someone tried to register your address" email an hour at most


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def check_registration(edge: "Edge", email: str, password: str, display_name: str, role: str,
                       accepted: Iterable[str]) -> tuple[str, str, list]:
    """Validate everything except uniqueness; return (email, display name, documents accepted).

    Whether the address is taken is not an error a visitor sees: `register` answers the same
    either way and tells the address's owner instead."""
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
    return email, display_name, docs


def register(edge: "Edge", email: str, display_name: str, role: str, password_hash: str,
             docs: Iterable[Any], ip: str | None) -> int | None:
    """Create the account and send its confirmation link; or, when the address already has an
    account, email that account's owner instead. Returns the new id or None; the caller must
    answer both the same way, so registering reveals nothing about which addresses exist."""
    existing = get_by_email(edge, email)
    if existing is None:
        try:
            return create_user(edge, email, display_name, role, password_hash, docs, ip)
        except Conflict:  # registered a moment ago by another request
            existing = get_by_email(edge, email)
    if existing is not None:
        notify_registration_attempt(edge, existing, ip)
    return None


def notify_registration_attempt(edge: "Edge", user: Any, ip: str | None) -> None:
    """Tell an account's owner someone tried to register their address: at most one email an
    hour, so nobody can flood a mailbox by registering it over and over."""
    if not is_active(user):
        return
    with atomic(edge.db):
        audit.record(edge, "user.registration_attempt", subject_id=user["id"], ip=ip)
        if edge.db.execute("SELECT 1 FROM outbox WHERE template = 'registration_attempt' AND user_id = ?"
                           " AND created_at > ?", (user["id"], edge.clock.iso(-NOTICE_INTERVAL_SECONDS))).fetchone():
            return
        outbox.enqueue(edge, "registration_attempt", user["email"], user["id"], name=user["display_name"],
                       email=user["email"])


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
    """Not disabled, not being deleted and not banned: such an account can be signed in to."""
    return (user is not None and user["disabled_at"] is None and user["deletion_requested_at"] is None
            and user["banned_at"] is None)


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


def set_role(edge: "Edge", user_id: int, role: str, actor_id: int | None) -> None:
    if role not in ROLES:
        raise ValidationFailed(fields={"role": f"Role must be one of {', '.join(ROLES)}."})
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
        audit.record(edge, "user.role_changed", actor_id=actor_id, subject_id=user_id, role=role)


def consents_of(edge: "Edge", user_id: int) -> list[Any]:
    """The user's consent records, newest first (the account page lists them)."""
    return edge.db.execute("SELECT document, version, accepted_at FROM consents WHERE user_id = ? ORDER BY id DESC",
                           (user_id,)).fetchall()


def sessions_of(edge: "Edge", user_id: int) -> list[Any]:
    """The user's signed-in sessions, newest first (where and with what)."""
    return edge.db.execute("SELECT created_at, last_seen_at, ip, user_agent FROM sessions WHERE user_id = ?"
                           " ORDER BY created_at DESC", (user_id,)).fetchall()


def new_accounts(edge: "Edge", start: str, end: str) -> dict[str, int]:
    """Accounts created in [start, end), by role."""
    return {row[0]: row[1] for row in edge.db.execute(
        "SELECT role, COUNT(*) FROM users WHERE created_at >= ? AND created_at < ? GROUP BY role", (start, end))}


def names_of(edge: "Edge", ids: set[int]) -> dict[int, str]:
    """Display names and addresses of accounts, for audit trails that show people, not numbers."""
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = edge.db.execute(f"SELECT id, display_name, email FROM users WHERE id IN ({', '.join('?' * len(ids))})",
                           tuple(ids))
    return {r["id"]: f"{r['display_name']} <{r['email']}>" for r in rows}
