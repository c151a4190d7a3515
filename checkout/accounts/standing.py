"""An account's standing: banned or not, verified or not, and its role, as administrators set
them. Every change is one transaction with its audit row (naming the administrator) and its
email; a ban also ends every session and API token of the account at once.

What a ban means for the account's products and payouts (unlisted, held) is the delivery and
payments packages' business (`checkout.delivery.standing`), which call these functions first.
"""

from __future__ import annotations

from typing import Any

from checkout.accounts import sessions, users
from checkout.accounts.errors import AccountsError
from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed

REASON_LEN = (3, 2000)
OPERATOR = "an operator (command line)"


class SelfModeration(AccountsError):
    """Raised when an administrator bans, demotes or unverifies their own account: a mistake
    there locks the last admin out, so another admin (or the command line) must do it."""
    status, code, message = 409, "own_account", "You cannot change the standing of your own account."


def actor_name(actor: Any | None) -> str:
    """How the audit log and the emails name who acted: the admin's name and address, or the CLI."""
    if actor is None:
        return OPERATOR
    return f"{actor['display_name']} <{actor['email']}>"


def check_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not REASON_LEN[0] <= len(reason) <= REASON_LEN[1] or any(ord(c) < 32 and c not in "\n\t" for c in reason):
        raise ValidationFailed(fields={field: f"Give the reason in {REASON_LEN[0]} to {REASON_LEN[1]:,} characters."})
    return reason


def account(edge: "Edge", user_id: int) -> Any:
    found = users.get_user(edge, user_id)
    if found is None or found["anonymised_at"] is not None:
        raise NotFound("No such account.")
    return found


def _not_self(target: Any, actor: Any | None) -> None:
    if actor is not None and int(actor["id"]) == int(target["id"]):
        raise SelfModeration()


def ban(edge: "Edge", user_id: int, actor: Any | None, reason: str, ip: str | None = None) -> Any:
    """Ban the account: sign-in refused, every session and API token ended now, the owner told
    why. Returns the account as it was before."""
    reason = check_reason(reason)
    target = account(edge, user_id)
    _not_self(target, actor)
    if target["banned_at"] is not None:
        raise Conflict("This account is already banned.", code="already_banned")
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET banned_at = ?, banned_by = ?, ban_reason = ? WHERE id = ?",
                        (edge.clock.iso(), actor["id"] if actor is not None else None, reason, user_id))
        ended = sessions.end_all_sessions(edge, user_id)
        audit.record(edge, "admin.user_banned", actor_id=actor["id"] if actor is not None else None,
                     subject_id=user_id, ip=ip, by=actor_name(actor), reason=reason, sessions_ended=ended)
        outbox.enqueue(edge, "account_banned", target["email"], user_id, name=target["display_name"], reason=reason)
    return target


def unban(edge: "Edge", user_id: int, actor: Any | None, reason: str, ip: str | None = None) -> Any:
    reason = check_reason(reason)
    target = account(edge, user_id)
    if target["banned_at"] is None:
        raise Conflict("This account is not banned.", code="not_banned")
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET banned_at = NULL, banned_by = NULL, ban_reason = NULL WHERE id = ?", (user_id,))
        audit.record(edge, "admin.user_unbanned", actor_id=actor["id"] if actor is not None else None,
                     subject_id=user_id, ip=ip, by=actor_name(actor), reason=reason)
        outbox.enqueue(edge, "account_unbanned", target["email"], user_id, name=target["display_name"],
                       link=f"{edge.settings.CHECKOUT_URL}/login")
    return target


def set_verified(edge: "Edge", user_id: int, actor: Any | None, verified: bool, reason: str = "",
                 ip: str | None = None) -> Any:
    """Verify a seller (the storefront badge), or take the badge away (which needs a reason)."""
    target = account(edge, user_id)
    if verified and target["role"] == "buyer":
        raise ValidationFailed("Only seller accounts can be verified.", fields={"role": "Make the account a seller first."})
    if verified == (target["verified_at"] is not None):
        raise Conflict("This account is already verified." if verified else "This account is not verified.",
                       code="no_change")
    if not verified:
        reason = check_reason(reason)
        _not_self(target, actor)
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET verified_at = ?, verified_by = ? WHERE id = ?",
                        (edge.clock.iso() if verified else None,
                         actor["id"] if actor is not None and verified else None, user_id))
        audit.record(edge, "admin.user_verified" if verified else "admin.user_unverified",
                     actor_id=actor["id"] if actor is not None else None, subject_id=user_id, ip=ip,
                     by=actor_name(actor), **({"reason": reason} if not verified else {}))
        if verified:
            outbox.enqueue(edge, "seller_verified", target["email"], user_id, name=target["display_name"])
    return target


def set_role(edge: "Edge", user_id: int, actor: Any | None, role: str, ip: str | None = None) -> Any:
    target = account(edge, user_id)
    if role not in users.ROLES:
        raise ValidationFailed(fields={"role": f"Role must be one of {', '.join(users.ROLES)}."})
    _not_self(target, actor)
    if role == target["role"]:
        raise Conflict(f"The account is already a {role}.", code="no_change")
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET role = ? WHERE id = ?", (role, user_id))
        audit.record(edge, "user.role_changed", actor_id=actor["id"] if actor is not None else None,
                     subject_id=user_id, ip=ip, by=actor_name(actor), role=role, was=target["role"])
    return target


def search(edge: "Edge", query: str, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Accounts whose email or name contains `query` (case-insensitive), newest first; every
    account when it is empty. Anonymised accounts are left out."""
    query = (query or "").strip()[:200]
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = edge.db.execute(
        "SELECT id, email, display_name, role, created_at, email_verified_at, banned_at, verified_at,"
        " deletion_requested_at FROM users WHERE anonymised_at IS NULL"
        " AND (? = '' OR email LIKE ? ESCAPE '\\' OR display_name LIKE ? ESCAPE '\\')"
        " ORDER BY id DESC LIMIT ? OFFSET ?", (query, like, like, limit, offset)).fetchall()
    return [dict(r) for r in rows]


def describe(user: Any) -> dict[str, Any]:
    """An account as the consoles and the API show it."""
    return {"id": user["id"], "email": user["email"], "display_name": user["display_name"], "role": user["role"],
            "created_at": user["created_at"], "email_verified": user["email_verified_at"] is not None,
            "banned": user["banned_at"] is not None, "banned_at": user["banned_at"],
            "ban_reason": user["ban_reason"] if "ban_reason" in user.keys() else None,
            "verified": user["verified_at"] is not None, "verified_at": user["verified_at"],
            "deletion_requested": user["deletion_requested_at"] is not None}
