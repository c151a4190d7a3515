"""API refresh tokens: stored hashed, rotated on every use; reuse of a spent token revokes its
whole family (the sign-in it came from).
"""

from __future__ import annotations

import sqlite3

from checkout.accounts.errors import AccountBanned, AccountDisabled
from checkout.accounts.users import get_user, is_active
from checkout.core import audit
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken
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
