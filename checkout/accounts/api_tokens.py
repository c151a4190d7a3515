"""API credentials of the accounts package.

- Refresh tokens (the first-party JWT flow): stored hashed, rotated on every use; reuse of a
  spent token revokes its whole family (the sign-in it came from).
- Personal access tokens (issue #21): a user creates one with a name and scopes for scripts and
  integrations, sees it once (`ddp_<prefix>_<secret>`), and revokes it. Only the secret's
  SHA-256 is stored; the prefix identifies the token in lists; the last use (time and address)
  is shown. A token never grants more than its owner's role allows: scopes are checked against
  the role when the token is made, and the role is checked again on every request.
"""

from __future__ import annotations

import hmac
import sqlite3
from typing import Any

from checkout.accounts.errors import AccountBanned, AccountDisabled
from checkout.accounts.users import get_user, is_active
from checkout.core import audit
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken, NotFound, ValidationFailed
from checkout.core.tokens import random_token, sha256


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
            if user is not None and user["banned_at"] is not None:
                raise AccountBanned()
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


# --- personal access tokens ---------------------------------------------------------------------

PAT_PREFIX = "ddp_"
MAX_TOKENS_PER_USER = 50
NAME_MAX = 100
TOUCH_EVERY_SECONDS = 60  # last use is written at most once a minute per token

# Every scope a token can carry: (scope, roles that may hold it, what it allows). `write:X`
# includes `read:X`; `admin:*` includes every scope. Issues that add resources add their lines.
SCOPES: dict[str, tuple[tuple[str, ...], str]] = {
    "read:account": (("buyer", "seller", "admin"), "Read your own profile."),
    "read:orders": (("buyer", "seller", "admin"), "Read your orders."),
    "read:library": (("buyer", "seller", "admin"), "Read your library and mint download links."),
    "read:products": (("seller", "admin"), "Read the products of the sellers you manage."),
    "write:products": (("seller", "admin"), "Unlist and list the products of the sellers you manage."),
    "read:sales": (("seller", "admin"), "Read the sales of the sellers you manage."),
    "read:refunds": (("seller", "admin"), "Read refund requests of your sales."),
    "read:payouts": (("seller", "admin"), "Read payouts and balances of the sellers you manage."),
    "read:webhooks": (("seller", "admin"), "Read your webhook endpoints and their delivery logs."),
    "write:webhooks": (("seller", "admin"), "Create, change, test and delete your webhook endpoints."),
    "read:discounts": (("seller", "admin"), "Read the discount codes of the sellers you manage, with their uses."),
    "write:discounts": (("seller", "admin"), "Create, pause and resume the discount codes of the sellers you manage."),
    "read:reviews": (("buyer", "seller", "admin"), "Read your own reviews, and the reviews of your products."),
    "write:reviews": (("buyer", "seller", "admin"), "Write, edit and delete your reviews; reply to reviews of your products."),
    "admin:*": (("admin",), "Everything, including the admin operations."),
}


def scope_allows(granted: tuple[str, ...] | list[str], needed: str) -> bool:
    """Whether a token with `granted` scopes may do what `needed` names."""
    if "admin:*" in granted or needed in granted:
        return True
    kind, _, resource = needed.partition(":")
    return kind == "read" and f"write:{resource}" in granted


def check_scopes(role: str, scopes: Any) -> list[str]:
    """The requested scopes, deduplicated and sorted, or a 422 naming `scopes`."""
    if not isinstance(scopes, list) or not scopes or not all(isinstance(x, str) for x in scopes):
        raise ValidationFailed(fields={"scopes": "must be a non-empty list of scopes, e.g. [\"read:sales\"]"})
    unknown = sorted({x for x in scopes if x not in SCOPES})
    if unknown:
        raise ValidationFailed(fields={"scopes": f"unknown scope {unknown[0][:40]!r}; known: {', '.join(SCOPES)}"})
    denied = sorted({x for x in scopes if role not in SCOPES[x][0]})
    if denied:
        raise ValidationFailed(fields={"scopes": f"a {role} account cannot hold {denied[0]}"})
    return sorted(set(scopes))


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(fields={"name": "must be a non-empty string"})
    name = name.strip()
    if len(name) > NAME_MAX or not name.isprintable():
        raise ValidationFailed(fields={"name": f"must be at most {NAME_MAX} printable characters"})
    return name


def create_personal(edge: "Edge", user: Any, name: Any, scopes: Any, ip: str | None = None) -> tuple[dict[str, Any], str]:
    """A new token for `user`: (its public description, the token itself, to be shown once)."""
    name = check_name(name)
    scopes = check_scopes(user["role"], scopes)
    prefix, secret = random_token(6).replace("-", "x").replace("_", "y"), random_token(32)
    now = edge.clock.iso()
    with atomic(edge.db):
        count = edge.db.execute("SELECT COUNT(*) FROM personal_tokens WHERE user_id = ? AND revoked_at IS NULL",
                                (user["id"],)).fetchone()[0]
        if count >= MAX_TOKENS_PER_USER:
            raise ValidationFailed(f"You have {count} tokens; revoke one you no longer use first.",
                                   fields={"name": f"at most {MAX_TOKENS_PER_USER} active tokens"})
        cur = edge.db.execute("INSERT INTO personal_tokens (user_id, name, prefix, token_hash, scopes, created_at)"
                              " VALUES (?,?,?,?,?,?)", (user["id"], name, prefix, sha256(secret), " ".join(scopes), now))
        audit.record(edge, "api.personal_token_created", actor_id=user["id"], subject_id=user["id"], ip=ip,
                     token=prefix, scopes=" ".join(scopes))
    return personal(edge, user["id"], int(cur.lastrowid)), f"{PAT_PREFIX}{prefix}_{secret}"


def describe_personal(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "prefix": PAT_PREFIX + row["prefix"], "scopes": row["scopes"].split(),
            "created_at": row["created_at"], "last_used_at": row["last_used_at"], "last_used_ip": row["last_used_ip"],
            "revoked_at": row["revoked_at"]}


def personal(edge: "Edge", user_id: int, token_id: int) -> dict[str, Any]:
    """One of `user_id`'s tokens; another user's answers 404 like a missing one."""
    row = edge.db.execute("SELECT * FROM personal_tokens WHERE id = ? AND user_id = ?", (token_id, user_id)).fetchone()
    if row is None:
        raise NotFound("There is no token with that id.")
    return describe_personal(row)


def personal_of(edge: "Edge", user_id: int, include_revoked: bool = False) -> list[dict[str, Any]]:
    sql = "SELECT * FROM personal_tokens WHERE user_id = ?" + ("" if include_revoked else " AND revoked_at IS NULL")
    return [describe_personal(r) for r in edge.db.execute(sql + " ORDER BY id DESC", (user_id,))]


def revoke_personal(edge: "Edge", user_id: int, token_id: int, ip: str | None = None) -> dict[str, Any]:
    with atomic(edge.db):
        found = personal(edge, user_id, token_id)
        if found["revoked_at"] is None:
            edge.db.execute("UPDATE personal_tokens SET revoked_at = ? WHERE id = ?", (edge.clock.iso(), token_id))
            audit.record(edge, "api.personal_token_revoked", actor_id=user_id, subject_id=user_id, ip=ip,
                         token=found["prefix"])
    return personal(edge, user_id, token_id)


def revoke_all_personal(edge: "Edge", user_id: int) -> int:
    """Every token of an account, at once (a ban, a deletion). Call inside the caller's transaction."""
    return edge.db.execute("UPDATE personal_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                           (edge.clock.iso(), user_id)).rowcount


def authenticate_personal(edge: "Edge", token: str, ip: str | None) -> tuple[sqlite3.Row, tuple[str, ...]]:
    """(the user, the token's scopes) for a presented `ddp_` token; InvalidToken otherwise."""
    prefix, _, secret = token[len(PAT_PREFIX):].partition("_")
    row = edge.db.execute("SELECT * FROM personal_tokens WHERE prefix = ?", (prefix,)).fetchone() if prefix else None
    if row is None or not secret or not hmac.compare_digest(sha256(secret), row["token_hash"]):
        raise InvalidToken("The access token is invalid.", status=401)
    if row["revoked_at"] is not None:
        raise InvalidToken("This access token was revoked.", status=401, code="token_revoked")
    user = get_user(edge, row["user_id"])
    if user is not None and user["banned_at"] is not None:
        raise AccountBanned()
    if not is_active(user):
        raise AccountDisabled()
    now = edge.clock()
    if row["last_used_at"] is None or parse_iso(row["last_used_at"]) <= now - TOUCH_EVERY_SECONDS \
            or row["last_used_ip"] != ip:
        with atomic(edge.db):
            edge.db.execute("UPDATE personal_tokens SET last_used_at = ?, last_used_ip = ? WHERE id = ?",
                            (iso(now), ip, row["id"]))
    return user, tuple(row["scopes"].split())
