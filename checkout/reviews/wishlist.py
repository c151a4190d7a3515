"""Saving products from the storefront, and the opt-in email when a saved product's price drops.

The wishlist itself is a table of checkout.payments.carts; this module adds what the Save
button needs (only listed products, the price when saved) and a catalogue listener
(`hooks.catalog_listeners`): when a newly loaded catalogue prices a saved product lower in the
same currency, each saver who opted in (`email_preferences`, kind `price_drop`) is emailed once
for that drop, and the remembered price follows the catalogue either way.
"""

from __future__ import annotations

from typing import Any

import structlog

from checkout.core import outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import NotFound
from checkout.payments import carts
from checkout.reviews import invites
from digitaldock.money import format_money

log = structlog.get_logger("checkout.reviews.wishlist")


def save(edge: Edge, user_id: int, slug: Any) -> Any:
    """Save a listed product (again: nothing changes); returns the product."""
    product = edge.catalog.current().products.get(slug) if isinstance(slug, str) else None
    if product is None or product.withdrawn:
        raise NotFound("No product is listed at this address.", fields={"product": "is not a listed product"})
    with atomic(edge.db):
        carts.save(edge, user_id, product.slug)
        edge.db.execute("UPDATE wishlist_items SET price_minor = ?, currency = ? WHERE user_id = ? AND product_slug = ?"
                        " AND price_minor IS NULL", (product.price.minor, product.price.currency, user_id, product.slug))
    return product


def saved(edge: Edge, user_id: int) -> list[str]:
    return carts.wishlist(edge, user_id)


def on_catalog_load(edge: Edge, state: Any) -> None:
    """Email opted-in savers about price drops in the new catalogue; must not raise."""
    try:
        _price_drops(edge, state)
    except Exception:  # a listener must not stop the catalogue from loading
        log.exception("price_drop_check_failed")


def _price_drops(edge: Edge, state: Any) -> None:
    rows = edge.db.execute("SELECT w.id, w.user_id, w.product_slug, w.price_minor, w.currency, u.email, u.display_name,"
                           " u.anonymised_at FROM wishlist_items w JOIN users u ON u.id = w.user_id"
                           " WHERE w.price_minor IS NOT NULL").fetchall()
    with atomic(edge.db):
        for row in rows:
            product = state.products.get(row["product_slug"])
            if product is None or product.withdrawn or product.price.currency != row["currency"]:
                continue
            new = product.price.minor
            if new == row["price_minor"]:
                continue
            edge.db.execute("UPDATE wishlist_items SET price_minor = ? WHERE id = ?", (new, row["id"]))
            if new < row["price_minor"] and not row["anonymised_at"] and invites.wants(edge, row["user_id"], "price_drop"):
                outbox.enqueue(edge, "price_drop", row["email"], row["user_id"], name=row["display_name"],
                               title=product.title, now=format_money(new, row["currency"]),
                               was=format_money(row["price_minor"], row["currency"]),
                               link=f"{edge.settings.SITE_URL}{product.url or '/products/' + product.slug + '/'}",
                               unsubscribe=invites.unsubscribe_link(edge, row["user_id"], "price_drop"))
