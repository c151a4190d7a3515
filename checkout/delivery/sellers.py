"""Which catalogue seller a user account sells as."""

from __future__ import annotations

from checkout.core.context import Edge
from digitaldock.money import CURRENCIES


def seller_slug_of(edge: "Edge", user_id: int) -> str | None:
    if edge.db["seller_accounts"].exists():
        row = edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY created_at LIMIT 1",
                              (user_id,)).fetchone()
        if row:
            return str(row[0])
    row = edge.db.execute("SELECT seller_slug FROM submissions WHERE user_id = ? AND seller_slug IS NOT NULL"
                          " ORDER BY id LIMIT 1", (user_id,)).fetchone()
    return str(row[0]) if row else None


def payout_currency_of(edge: "Edge", user_id: int) -> str | None:
    """The payout currency of the catalogue seller the account sells as, or None: a new product
    is priced in it by default."""
    slug = seller_slug_of(edge, user_id)
    seller = edge.catalog.current().sellers.get(slug) if slug else None
    currency = seller.get("payout_currency") if isinstance(seller, dict) else None
    return currency if currency in CURRENCIES else None
