"""What a buyer owns. A purchase with status `active` grants downloads; `refunded` and
`revoked` grant none. Purchases are created only when a payment is applied (checkout.payments)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def _db(db: Any) -> sqlite_utils.Database:
    return db.db if hasattr(db, "db") and not isinstance(db, sqlite_utils.Database) else db


def owns(db: Any, user_id: int, slug: str) -> bool:
    """True when the user has an active purchase of the product (accepts a Database or an Edge)."""
    row = _db(db).execute("SELECT 1 FROM purchases WHERE user_id = ? AND product_slug = ? AND status = 'active'",
                          (user_id, slug)).fetchone()
    return row is not None


def active_purchases(db: Any, user_id: int) -> list[dict[str, Any]]:
    """The user's active purchases, newest first, with the order reference and the line's title/amount."""
    rows = _db(db).execute(
        "SELECT p.*, o.reference, l.title, l.amount, l.currency FROM purchases p"
        " JOIN orders o ON o.id = p.order_id JOIN order_lines l ON l.id = p.order_line_id"
        " WHERE p.user_id = ? AND p.status = 'active' ORDER BY p.created_at DESC, p.id DESC", (user_id,)).fetchall()
    return [dict(r) for r in rows]


def active_counts(edge: Any, slugs: list[str]) -> dict[str, int]:
    """Active purchases per product slug (refunded ones do not count)."""
    if not slugs:
        return {}
    marks = ",".join("?" * len(slugs))
    rows = _db(edge).execute(f"SELECT product_slug, COUNT(*) AS n FROM purchases WHERE product_slug IN ({marks})"
                             " AND status = 'active' GROUP BY product_slug", slugs).fetchall()
    return {r["product_slug"]: r["n"] for r in rows}


def of_user(edge: Any, user_id: int, limit: int = 200) -> list[dict[str, Any]]:
    """Every purchase of a user, newest first, with its line's title (refunded ones too)."""
    return [dict(r) for r in _db(edge).execute(
        "SELECT p.id, p.product_slug, p.seller, p.status, p.created_at, l.title FROM purchases p"
        " JOIN order_lines l ON l.id = p.order_line_id WHERE p.user_id = ? ORDER BY p.id DESC LIMIT ?", (user_id, limit))]
