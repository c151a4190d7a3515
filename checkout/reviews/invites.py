"""Invitations to review, and the email preferences they honour.

A retention step (`hooks.retention_tasks`, run daily by the edge) emails each buyer once per
purchase, REVIEW_INVITE_DAYS after it, while the purchase is not refunded, the product is not
reviewed yet and the buyer has not unsubscribed. `review_invites` records the purchase in the
same transaction as the outbox row, so a purchase is never invited twice. Every invitation
carries a signed unsubscribe link (no sign-in needed) that turns them off for the account.
"""

from __future__ import annotations

from typing import Any

from checkout.core import outbox
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken

KINDS = {"review_invite": True, "price_drop": False}  # kind → on unless changed
UNSUBSCRIBE_SECONDS = 400 * 86400
INVITE_WINDOW_DAYS = 30  # purchases older than this when invitations start are not invited


def wants(edge: Edge, user_id: int, kind: str) -> bool:
    row = edge.db.execute("SELECT enabled FROM email_preferences WHERE user_id = ? AND kind = ?",
                          (user_id, kind)).fetchone()
    return KINDS[kind] if row is None else bool(row[0])


def set_preference(edge: Edge, user_id: int, kind: str, enabled: bool) -> None:
    with atomic(edge.db):
        edge.db.execute("INSERT INTO email_preferences (user_id, kind, enabled, updated_at) VALUES (?,?,?,?)"
                        " ON CONFLICT (user_id, kind) DO UPDATE SET enabled = excluded.enabled,"
                        " updated_at = excluded.updated_at", (user_id, kind, int(enabled), edge.clock.iso()))


def unsubscribe_link(edge: Edge, user_id: int, kind: str) -> str:
    token = edge.tokens.dumps("unsubscribe", {"u": user_id, "k": kind})
    return f"{edge.settings.CHECKOUT_URL}/email/unsubscribe?t={token}"


def unsubscribe(edge: Edge, token: str) -> str:
    """Turn off the kind of email the signed link names; returns the kind."""
    data = edge.tokens.loads("unsubscribe", token, UNSUBSCRIBE_SECONDS)
    if not isinstance(data, dict) or data.get("k") not in KINDS or not isinstance(data.get("u"), int):
        raise InvalidToken()
    set_preference(edge, data["u"], data["k"], False)
    return str(data["k"])


def due(edge: Edge, now: float, limit: int = 500) -> list[dict[str, Any]]:
    days = edge.settings.REVIEW_INVITE_DAYS
    until, since = iso(now - days * 86400), iso(now - (days + INVITE_WINDOW_DAYS) * 86400)
    return [dict(r) for r in edge.db.execute(
        "SELECT p.id, p.user_id, p.product_slug, u.email, u.display_name FROM purchases p"
        " JOIN users u ON u.id = p.user_id"
        " WHERE p.status = 'active' AND p.created_at <= ? AND p.created_at >= ?"
        " AND u.anonymised_at IS NULL AND u.disabled_at IS NULL AND u.banned_at IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM review_invites i WHERE i.purchase_id = p.id)"
        " AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.user_id = p.user_id AND r.product_slug = p.product_slug)"
        " AND NOT EXISTS (SELECT 1 FROM email_preferences e WHERE e.user_id = p.user_id"
        "                 AND e.kind = 'review_invite' AND e.enabled = 0)"
        " ORDER BY p.id LIMIT ?", (until, since, limit))]


def send_invitations(edge: Edge, now: float) -> dict[str, int]:
    """`hooks.retention_tasks` step: invite each due purchase once."""
    if edge.settings.REVIEW_INVITE_DAYS <= 0:
        return {"review invitations": 0}
    products = edge.catalog.current().products
    sent = 0
    for row in due(edge, now):
        product = products.get(row["product_slug"])
        with atomic(edge.db):
            edge.db.execute("INSERT INTO review_invites (purchase_id, user_id, sent_at) VALUES (?,?,?)",
                            (row["id"], row["user_id"], edge.clock.iso()))
            if product is None:
                continue  # withdrawn since: nothing to invite to, and never later either
            outbox.enqueue(edge, "review_invite", row["email"], row["user_id"], name=row["display_name"],
                           title=product.title, link=f"{edge.settings.CHECKOUT_URL}/reviews/{product.slug}#write",
                           unsubscribe=unsubscribe_link(edge, row["user_id"], "review_invite"))
            sent += 1
    return {"review invitations": sent}
