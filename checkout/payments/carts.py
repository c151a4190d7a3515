"""Carts and wishlists: what a buyer means to buy. Neither holds a price; every line is priced
from the catalogue when it is shown or paid (`checkout.payments.pricing`).

A cart belongs to an owner: `u:<user id>` for an account, `g:<random id>` for a guest (the id
lives in a signed cookie). A guest's cart joins the account's when they sign in.
"""

from __future__ import annotations

from typing import Any

from checkout.core.context import Edge
from checkout.core.db import atomic


def merge(edge: Edge, guest: str, user_id: int) -> None:
    """Move a guest cart's items into the account's cart (items already there win)."""
    with atomic(edge.db):
        edge.db.execute("INSERT OR IGNORE INTO cart_items (owner, product_slug, amount, added_at)"
                        " SELECT ?, product_slug, amount, added_at FROM cart_items WHERE owner = ?",
                        (f"u:{user_id}", f"g:{guest}"))
        edge.db.execute("DELETE FROM cart_items WHERE owner = ?", (f"g:{guest}",))


def items(edge: Edge, owner: str) -> list[dict[str, Any]]:
    """The owner's cart rows (product slug and, for pay-what-you-want, the amount chosen)."""
    return [dict(r) for r in edge.db.execute("SELECT * FROM cart_items WHERE owner = ? ORDER BY id", (owner,))]


def count(edge: Edge, owner: str) -> int:
    return int(edge.db.execute("SELECT COUNT(*) FROM cart_items WHERE owner = ?", (owner,)).fetchone()[0])


def add(edge: Edge, owner: str, slug: str, amount: int | None) -> None:
    """Put a product in the cart (again: the chosen amount is updated)."""
    with atomic(edge.db):
        edge.db.execute("INSERT INTO cart_items (owner, product_slug, amount, added_at) VALUES (?,?,?,?)"
                        " ON CONFLICT (owner, product_slug) DO UPDATE SET amount = excluded.amount",
                        (owner, slug, amount, edge.clock.iso()))


def remove(edge: Edge, owner: str, slug: str) -> None:
    with atomic(edge.db):
        edge.db.execute("DELETE FROM cart_items WHERE owner = ? AND product_slug = ?", (owner, slug))


def clear(edge: Edge, owner: str) -> None:
    with atomic(edge.db):
        edge.db.execute("DELETE FROM cart_items WHERE owner = ?", (owner,))


def wishlist(edge: Edge, user_id: int) -> list[str]:
    """The slugs a user saved, oldest first."""
    return [r[0] for r in edge.db.execute("SELECT product_slug FROM wishlist_items WHERE user_id = ? ORDER BY id",
                                          (user_id,))]


def save(edge: Edge, user_id: int, slug: str) -> None:
    with atomic(edge.db):
        edge.db.execute("INSERT OR IGNORE INTO wishlist_items (user_id, product_slug, added_at) VALUES (?,?,?)",
                        (user_id, slug, edge.clock.iso()))


def unsave(edge: Edge, user_id: int, slug: str) -> None:
    with atomic(edge.db):
        edge.db.execute("DELETE FROM wishlist_items WHERE user_id = ? AND product_slug = ?", (user_id, slug))
