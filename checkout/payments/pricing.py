"""Prices from the loaded catalogue, never from the browser (a pay-what-you-want amount is
checked against the catalogue's minimum), and each seller's fee rate.

A priced `Line` carries its price as `Money`; `digitaldock.money.format_money` is the one way
any amount is shown, on the storefront, the edge's pages and in emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checkout.core.context import Edge
from checkout.core.errors import NotFound, ValidationFailed
from digitaldock.money import CURRENCIES, Money, MoneyError, parse_amount
from digitaldock.published import PublishedProduct


@dataclass(frozen=True)
class Line:
    """One product priced for one order: the catalogue's price, or what the buyer chose to pay."""

    product: PublishedProduct
    price: Money

    @property
    def product_slug(self) -> str:
        return self.product.slug

    @property
    def seller(self) -> str:
        return self.product.seller

    @property
    def title(self) -> str:
        return self.product.title

    @property
    def url(self) -> str:
        return self.product.url

    @property
    def amount(self) -> int:
        return self.price.minor

    @property
    def currency(self) -> str:
        return self.price.currency

    @property
    def chosen(self) -> int | None:
        """The amount the buyer chose (pay-what-you-want), to keep in a cart; None for a fixed price."""
        return self.price.minor if self.product.pwyw_minimum is not None else None


def fee_bps_for(edge: Edge, seller: str) -> int:
    row = edge.db.execute("SELECT fee_bps FROM seller_accounts WHERE seller_slug = ?", (seller,)).fetchone()
    if row is not None and row["fee_bps"] is not None:
        return int(row["fee_bps"])
    return int(edge.settings.PLATFORM_FEE_BPS)


def product(edge: Edge, slug: Any) -> PublishedProduct:
    """The product the catalogue lists under `slug`; a clear 404 for anything else."""
    found = edge.catalog.current().products.get(slug) if isinstance(slug, str) else None
    if found is None:
        raise NotFound("That product is not in the catalogue.", code="unknown_product")
    return found


def price_line(edge: Edge, slug: str, amount_text: str | int | None = None) -> Line:
    """Price one product from the loaded catalogue; a pay-what-you-want amount must be ≥ the minimum.
    Prices never come from the browser, except a PWYW amount checked against the catalogue."""
    listed = product(edge, slug)
    minimum = listed.pwyw_minimum
    if minimum is None or amount_text in (None, ""):
        return Line(listed, listed.price)
    currency = listed.price.currency
    try:
        amount = amount_text if isinstance(amount_text, int) else parse_amount(str(amount_text), currency)
    except MoneyError as exc:
        raise ValidationFailed(fields={"amount": str(exc)}) from None
    if amount < minimum.minor:
        raise ValidationFailed(f"Pay at least {minimum.display()} for {listed.title}.",
                               fields={"amount": f"at least {minimum.display()}"}, code="amount_too_low")
    if amount > CURRENCIES[currency].maximum:
        raise ValidationFailed(fields={"amount": "That amount is too large."}, code="amount_too_high")
    return Line(listed, Money(currency, amount))


def price_items(edge: Edge, items: list[tuple[str, Any]]) -> list[Line]:
    lines, seen = [], set()
    for slug, amount in items:
        if slug in seen:
            continue
        seen.add(slug)
        lines.append(price_line(edge, slug, amount))
    if not lines:
        raise ValidationFailed("Your cart is empty.", code="empty_cart")
    currencies = sorted({line.currency for line in lines})
    if len(currencies) > 1:
        raise ValidationFailed(
            f"One order can only be paid in one currency; your cart mixes {' and '.join(currencies)}. "
            "Please buy the items of each currency separately.", code="mixed_currency")
    return lines


def total(lines: list[Line]) -> Money | None:
    """The sum of lines of one currency; None when they mix currencies (or there are none)."""
    if not lines or len({line.currency for line in lines}) != 1:
        return None
    found = lines[0].price
    for line in lines[1:]:
        found = found + line.price
    return found


# --- the tax step (issue #18) -----------------------------------------------------------------
# Tax is worked out last, on each line's price as it stands after every other step (discounts
# included), so a discount lowers the tax with the price. Nothing else changes a line after it.


@dataclass(frozen=True)
class TaxedLine:
    """A priced line with its tax: `base` is what the fee and the seller's share are cut from,
    `tax` what the buyer's country is owed, `charged` = base + tax what the buyer pays."""

    line: Line
    base: Money
    tax: Money
    bps: int
    country: str

    @property
    def charged(self) -> Money:
        return self.base + self.tax


def tax_split(price: int, bps: int, included: bool) -> tuple[int, int]:
    """(base, tax) in minor units for a price at `bps` basis points, rounded half up.

    Tax-exclusive: tax = price × bps / 10000 and the buyer pays price + tax. Tax-inclusive: the
    price already holds the tax, base = price × 10000 / (10000 + bps) and tax = price − base,
    so base + tax is the price exactly."""
    if price < 0 or not 0 <= bps <= 10_000:
        raise ValueError(f"bad tax inputs price={price} bps={bps}")
    if included:
        base = (price * 10_000 * 2 + (10_000 + bps)) // (2 * (10_000 + bps))
        return base, price - base
    return price, (price * bps + 5_000) // 10_000


def tax_step(lines: list[Line], rate_bps: int, country: str, included: bool) -> list[TaxedLine]:
    """The tax of each line at the buyer country's rate (see `tax_split`)."""
    out = []
    for line in lines:
        base, tax = tax_split(line.price.minor, rate_bps, included)
        out.append(TaxedLine(line, Money(line.currency, base), Money(line.currency, tax), rate_bps, country))
    return out


def taxed_total(lines: list[TaxedLine]) -> Money | None:
    """What the buyer pays for lines of one currency, tax included."""
    if not lines or len({x.line.currency for x in lines}) != 1:
        return None
    found = lines[0].charged
    for x in lines[1:]:
        found = found + x.charged
    return found
