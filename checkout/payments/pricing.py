"""Prices from the loaded catalogue, never from the browser (a pay-what-you-want amount is
checked against the catalogue's minimum), and each seller's fee rate.
"""

from __future__ import annotations

from typing import Any

from checkout.core.context import Edge
from checkout.core.errors import NotFound, ValidationFailed
from digitaldock.money import CURRENCIES, MoneyError, parse_amount, to_decimal


def display(amount: int, currency: str) -> str:
    c = CURRENCIES.get(currency)
    if c is None:
        return f"{currency} {amount}"
    sign, text = ("-", to_decimal(-amount, currency)) if amount < 0 else ("", to_decimal(amount, currency))
    whole, _, frac = text.partition(".")
    return f"{sign}{c.symbol}{int(whole):,}" + (f".{frac}" if frac else "")


def fee_bps_for(edge: "Edge", seller: str) -> int:
    row = edge.db.execute("SELECT fee_bps FROM seller_accounts WHERE seller_slug = ?", (seller,)).fetchone()
    if row is not None and row["fee_bps"] is not None:
        return int(row["fee_bps"])
    return int(edge.settings.PLATFORM_FEE_BPS)


def price_line(edge: "Edge", slug: str, amount_text: str | int | None = None) -> dict[str, Any]:
    """Price one product from the loaded catalogue; a pay-what-you-want amount must be ≥ the minimum.
    Prices never come from the browser, except a PWYW amount checked against the catalogue."""
    state = edge.catalog.current()
    product = state.products.get(slug) if isinstance(slug, str) else None
    if not isinstance(product, dict):
        raise NotFound("That product is not in the catalogue.", code="unknown_product")
    currency, price = str(product["currency"]), int(product["price"])
    minimum = product.get("pwyw_minimum")
    amount = price
    if minimum is not None and amount_text not in (None, ""):
        try:
            amount = amount_text if isinstance(amount_text, int) else parse_amount(str(amount_text), currency)
        except MoneyError as exc:
            raise ValidationFailed(fields={"amount": str(exc)}) from None
        if amount < int(minimum):
            raise ValidationFailed(f"Pay at least {display(int(minimum), currency)} for {product['title']}.",
                                   fields={"amount": f"at least {display(int(minimum), currency)}"}, code="amount_too_low")
        if currency in CURRENCIES and amount > CURRENCIES[currency].maximum:
            raise ValidationFailed(fields={"amount": "That amount is too large."}, code="amount_too_high")
    return {"product_slug": slug, "seller": str(product["seller"]), "title": str(product["title"]),
            "amount": amount, "currency": currency, "url": str(product.get("url", "")),
            "pwyw_minimum": minimum}


def price_items(edge: "Edge", items: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    lines, seen = [], set()
    for slug, amount in items:
        if slug in seen:
            continue
        seen.add(slug)
        lines.append(price_line(edge, slug, amount))
    if not lines:
        raise ValidationFailed("Your cart is empty.", code="empty_cart")
    currencies = sorted({line["currency"] for line in lines})
    if len(currencies) > 1:
        raise ValidationFailed(
            f"One order can only be paid in one currency; your cart mixes {' and '.join(currencies)}. "
            "Please buy the items of each currency separately.", code="mixed_currency")
    return lines
