"""Sign-in limits: failed attempts counted per email address and per IP, in the database.

Only failures count. Each address (whether or not an account has it) and each IP may fail
LOGIN_FAILURES times within a moving window of LOGIN_WINDOW_MINUTES; after that, attempts are
refused with 429 before the password is even looked at, with the same message for known and
unknown addresses, until the oldest failure leaves the window. A successful sign-in clears its
address's failures (not its IP's: otherwise an attacker with an account of their own could
wipe the IP count between guesses).

Why the database and not the in-memory `limits` storage the other limits use: the edge's
clock (tests move it), counts that survive a restart or a deploy (two processes for a moment,
docs/operations.md), and one truth for the unlock link to clear.

An attempt is counted *before* the password is checked (`start`) and forgiven when it turns
out right (`succeeded`): argon2 runs in a worker thread, so many requests can wait on it at
once, and counting afterwards would let them all through before the first failure landed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checkout.accounts.errors import TooManySignIns
from checkout.accounts.users import get_user, is_active, normalize_email
from checkout.core import audit, outbox
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken
from checkout.core.tokens import sha256


@dataclass(frozen=True)
class Attempt:
    """One sign-in (or password confirmation) in progress, counted as failed until it succeeds."""
    email: str
    ip: str
    row_ids: tuple[int, int]  # its provisional rows: (email scope, IP scope)


def _key(scope: str, value: str) -> str:
    return sha256(f"{scope}:{value}")


def _window(edge: "Edge") -> int:
    return edge.settings.LOGIN_WINDOW_MINUTES * 60


def wait_seconds(edge: "Edge", scope: str, value: str) -> float | None:
    """Seconds until `value` may try again, or None when it may now."""
    allowed = edge.settings.LOGIN_FAILURES
    now = edge.clock()
    rows = edge.db.execute(
        "SELECT at FROM sign_in_failures WHERE scope = ? AND key = ? AND at > ? ORDER BY at DESC LIMIT ?",
        (scope, _key(scope, value), edge.clock.iso(-_window(edge)), allowed)).fetchall()
    if len(rows) < allowed:
        return None
    return max(1.0, parse_iso(rows[-1]["at"]) + _window(edge) - now)


def check(edge: "Edge", email: str, ip: str) -> None:
    """Raise TooManySignIns when the address or the IP has used up its failures."""
    by_email = wait_seconds(edge, "email", normalize_email(email))
    by_ip = wait_seconds(edge, "ip", ip)
    if by_email is not None and by_email >= (by_ip or 0):
        raise TooManySignIns.after(by_email, "Too many failed sign-ins for this address.")
    if by_ip is not None:
        raise TooManySignIns.after(by_ip, "Too many failed sign-ins from your network.")


def start(edge: "Edge", email: str, ip: str) -> Attempt:
    """Check the limits, then count this attempt as a failure until `succeeded` says otherwise."""
    email = normalize_email(email)
    check(edge, email, ip)
    now, cutoff = edge.clock.iso(), edge.clock.iso(-_window(edge))
    ids = []
    with atomic(edge.db):
        for scope, value in (("email", email), ("ip", ip)):
            key = _key(scope, value)
            edge.db.execute("DELETE FROM sign_in_failures WHERE scope = ? AND key = ? AND at <= ?", (scope, key, cutoff))
            cur = edge.db.execute("INSERT INTO sign_in_failures (scope, key, at) VALUES (?,?,?)", (scope, key, now))
            ids.append(int(cur.lastrowid))
    return Attempt(email, ip, (ids[0], ids[1]))


def succeeded(edge: "Edge", attempt: Attempt) -> None:
    """The password was right: the address starts afresh; the IP keeps its other failures."""
    with atomic(edge.db):
        clear(edge, attempt.email)
        edge.db.execute("DELETE FROM sign_in_failures WHERE id = ?", (attempt.row_ids[1],))


def failed(edge: "Edge", attempt: Attempt, user: Any, reason: str = "bad_password") -> None:
    """The attempt stays counted. If it used up the address's failures and the address is an
    account's, its owner gets one email (per window) with a link that lifts the pause."""
    with atomic(edge.db):
        if user is None:
            audit.record(edge, "user.login_failed", ip=attempt.ip, reason="unknown_email")
            return
        audit.record(edge, "user.login_failed", subject_id=user["id"], ip=attempt.ip, reason=reason)
        if not is_active(user) or wait_seconds(edge, "email", attempt.email) is None:
            return
        if edge.db.execute("SELECT 1 FROM outbox WHERE template = 'lockout' AND user_id = ? AND created_at > ?",
                           (user["id"], edge.clock.iso(-_window(edge)))).fetchone():
            return
        s = edge.settings
        audit.record(edge, "user.locked", subject_id=user["id"], ip=attempt.ip, minutes=s.LOGIN_WINDOW_MINUTES)
        token = edge.tokens.dumps("unlock", {"u": user["id"], "e": user["email"]})
        outbox.enqueue(edge, "lockout", user["email"], user["id"], name=user["display_name"],
                       attempts=s.LOGIN_FAILURES, minutes=s.LOGIN_WINDOW_MINUTES, hours=s.UNLOCK_LINK_HOURS,
                       link=f"{s.CHECKOUT_URL}/login/unlock?token={token}")


def clear(edge: "Edge", email: str) -> None:
    """Forget an address's failures (a successful sign-in, a password reset, the unlock link)."""
    edge.db.execute("DELETE FROM sign_in_failures WHERE scope = 'email' AND key = ?",
                    (_key("email", normalize_email(email)),))


def check_unlock_token(edge: "Edge", token: str) -> Any:
    """The account an unlock link was sent to; it dies when the address changes."""
    data = edge.tokens.loads("unlock", token or "", edge.settings.UNLOCK_LINK_HOURS * 3600)
    uid = data.get("u")
    user = get_user(edge, uid) if isinstance(uid, int) else None
    if user is None or not is_active(user) or user["email"] != data.get("e"):
        raise InvalidToken()
    return user


def unlock(edge: "Edge", token: str, ip: str) -> Any:
    """The owner's link: the address may sign in again at once, and so may the IP the owner
    opened it from (they may have locked it themselves by mistyping)."""
    user = check_unlock_token(edge, token)
    with atomic(edge.db):
        clear(edge, user["email"])
        edge.db.execute("DELETE FROM sign_in_failures WHERE scope = 'ip' AND key = ?", (_key("ip", ip),))
        audit.record(edge, "user.unlocked", actor_id=user["id"], subject_id=user["id"], ip=ip)
    return user


def prune(edge: "Edge", now: float) -> int:
    """Retention: failures older than the window count for nothing."""
    return edge.db.execute("DELETE FROM sign_in_failures WHERE at <= ?", (iso(now - _window(edge)),)).rowcount
