"""Upsells (docs/promotions.md): a seller picks, for one of their products, another of their
products to offer at checkout, at its price or a percentage off. The checkout page shows the
offer as a one-click "Add" (a plain form, no JavaScript needed); the added line is paid in the
same Paystack payment. Prices come from the catalogue: the offer is checked and priced again
when the order is created, never taken from the browser.

Rule: an upsell's own discount is the seller's (like a seller's code) and a discount code does
not stack on the added line (it is not eligible for a code).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import NotFound, ValidationFailed
from checkout.payments.discounts import parse_percent
from checkout.payments.pricing import Line, percent_of, price_line, split_discount
from checkout.payments.purchases import owns
from digitaldock.money import Money


def set_offer(edge: Edge, product: str, offer: str, percent: Any = None, seller: str | None = None) -> None:
    """Offer `offer` at the checkout of `product` (both the same seller's; `seller`, when given,
    must be theirs)."""
    products = edge.catalog.current().products
    base, extra = products.get(product), products.get(offer)
    if base is None or (seller is not None and base.seller != seller):
        raise ValidationFailed(fields={"product": "Choose one of your products."})
    if extra is None or extra.seller != base.seller or offer == product:
        raise ValidationFailed(fields={"offer": "Choose another of your products to offer."})
    if extra.pwyw_minimum is not None and percent not in (None, ""):
        raise ValidationFailed(fields={"percent": "A pay-what-you-want product is offered at its own price."})
    bps = parse_percent(percent) if percent not in (None, "") else None
    if bps == 10_000:
        raise ValidationFailed(fields={"percent": "At most 99.99% off: an offer is still a sale."})
    with atomic(edge.db):
        edge.db.execute("INSERT INTO upsells (product_slug, seller, offer_slug, percent_bps, created_at)"
                        " VALUES (?,?,?,?,?) ON CONFLICT (product_slug) DO UPDATE SET offer_slug = excluded.offer_slug,"
                        " percent_bps = excluded.percent_bps, created_at = excluded.created_at",
                        (product, base.seller, offer, bps, edge.clock.iso()))


def remove_offer(edge: Edge, product: str, seller: str | None = None) -> None:
    with atomic(edge.db):
        cur = edge.db.execute("DELETE FROM upsells WHERE product_slug = ?" + (" AND seller = ?" if seller else ""),
                              (product, *((seller,) if seller else ())))
        if not cur.rowcount:
            raise NotFound("That product has no offer.")


def offers(edge: Edge, seller: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM upsells" + (" WHERE seller = ?" if seller else "") + " ORDER BY product_slug"
    return [dict(r) for r in edge.db.execute(sql, (seller,) if seller else ())]


def offer_for(edge: Edge, lines: list[Line], user: Any = None) -> Line | None:
    """The line the checkout of `lines` may add: the first line's offer (in order) that is in the
    catalogue, in the order's currency, not already in the order and not owned by the buyer;
    priced from the catalogue with its discount. None when there is nothing to offer."""
    have = {line.product_slug for line in lines}
    currency = lines[0].currency if lines else None
    for line in lines:
        row = edge.db.execute("SELECT * FROM upsells WHERE product_slug = ?", (line.product_slug,)).fetchone()
        if row is None or row["offer_slug"] in have:
            continue
        try:
            extra = price_line(edge, row["offer_slug"])
        except (NotFound, ValidationFailed):
            continue  # withdrawn from the catalogue
        if extra.currency != currency or extra.seller != line.seller:
            continue
        if user is not None and owns(edge.db, user["id"], extra.product_slug):
            continue
        if row["percent_bps"]:  # the rest of the order is already at least the currency's minimum charge
            off = split_discount([extra.amount], [extra.floor], percent_of(extra.amount, row["percent_bps"]))[0]
            if off:
                return replace(extra, price=Money(extra.currency, extra.amount - off), list_price=extra.price,
                               discount_bearer="seller")
        return replace(extra, discount_bearer="seller")
    return None


def with_offer(edge: Edge, lines: list[Line], add: Any, user: Any = None) -> list[Line]:
    """`lines` plus the offered line when the buyer asked to `add` it (its slug); anything else
    that is asked for is refused, naming `add`."""
    if add in (None, ""):
        return lines
    offered = offer_for(edge, lines, user)
    if offered is None or offered.product_slug != add:
        raise ValidationFailed("That product is not offered with this order any more.",
                               fields={"add": "Not offered with this order."}, code="no_such_offer")
    return [*lines, offered]


def bought_together(edge: Edge, min_buyers: int = 3, keep: int = 4) -> dict[str, list[str]]:
    """For each product, the products most often owned by the same buyers (active purchases),
    most buyers first, then by slug; a pair counts only when at least `min_buyers` different
    buyers own both, so the list never tells what one buyer bought. Written to the content as
    `together.yml` (`digitaldock upsell together`) and shown on product pages by the build."""
    pairs = edge.db.execute(
        "SELECT a.product_slug, b.product_slug, COUNT(DISTINCT a.user_id) AS n FROM purchases a"
        " JOIN purchases b ON b.user_id = a.user_id AND b.product_slug <> a.product_slug AND b.status = 'active'"
        " WHERE a.status = 'active' GROUP BY a.product_slug, b.product_slug HAVING n >= ?"
        " ORDER BY a.product_slug, n DESC, b.product_slug", (max(1, min_buyers),)).fetchall()
    out: dict[str, list[str]] = {}
    for slug, other, _n in pairs:
        found = out.setdefault(slug, [])
        if len(found) < keep:
            found.append(other)
    return out
