"""Prices from the loaded catalogue, never from the browser (a pay-what-you-want amount is
checked against the catalogue's minimum), and each seller's fee rate.

A priced `Line` carries its price as `Money`; `digitaldock.money.format_money` is the one way
any amount is shown, on the storefront, the edge's pages and in emails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    # set by the discount step (`apply_discount`): the catalogue price before it, and the code's id
    list_price: Money | None = None
    discount_code_id: int | None = None
    discount_bearer: str = ""  # "seller" or "platform": who the discount costs (docs/promotions.md)

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
        if self.product.pwyw_minimum is None:
            return None
        return (self.list_price or self.price).minor

    @property
    def discount(self) -> Money:
        """What the discount took off this line (zero when there is none)."""
        return (self.list_price - self.price) if self.list_price is not None else Money(self.currency, 0)

    @property
    def floor(self) -> int:
        """The least this line may cost after a discount: its pay-what-you-want minimum, else one minor unit."""
        minimum = self.product.pwyw_minimum
        return max(1, minimum.minor if minimum is not None else 0)


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


# --- the discount step ---------------------------------------------------------------------
# Additive to the pricing above: it takes priced Lines and returns Lines whose `price` is what
# the buyer pays, with the catalogue price kept in `list_price`. Which code, and whether it may
# be used, is decided in checkout/payments/discounts.py; here is only the arithmetic.


def percent_of(amount: int, bps: int) -> int:
    """`bps` basis points of `amount` minor units, rounded half up (the fee's rule)."""
    return (amount * bps + 5_000) // 10_000


def split_discount(amounts: list[int], floors: list[int], wanted: int) -> list[int]:
    """Split a discount of `wanted` minor units over lines of `amounts`, none below its floor.

    The written rule (docs/promotions.md): each line gets a share proportional to its amount,
    rounded down, and the minor units left over go one each to the lines with the largest
    remainders (ties: the earlier line) — the largest remainder method, so the parts add up
    exactly. A line that would fall below its floor (a pay-what-you-want minimum, or one minor
    unit) is capped there and what it could not take is split the same way over the lines that
    still have room. The result sums to `min(wanted, room)` where room is what all lines can give.
    """
    if len(amounts) != len(floors):
        raise ValueError("one floor per amount")
    room = [max(0, a - f) for a, f in zip(amounts, floors, strict=True)]
    wanted = max(0, min(wanted, sum(room)))
    shares = [0] * len(amounts)
    left = wanted
    while left > 0:
        open_ = [i for i in range(len(amounts)) if room[i] > shares[i]]
        weight = sum(amounts[i] for i in open_)
        parts = {i: divmod(left * amounts[i], weight) for i in open_}
        give = {i: q for i, (q, _) in parts.items()}
        rest = left - sum(give.values())
        for i in sorted(open_, key=lambda i: (-parts[i][1], i))[:rest]:
            give[i] += 1
        for i in open_:
            take = min(give[i], room[i] - shares[i])
            shares[i] += take
            left -= take
    return shares


def apply_discount(lines: list[Line], eligible: list[bool], *, percent_bps: int | None = None,
                   amount: Money | None = None, code_id: int | None = None, bearer: str = "seller") -> list[Line]:
    """The lines with a percentage (`percent_bps`) or a fixed `amount` taken off the eligible ones.

    A percentage is taken of the eligible lines' total (rounded half up), a fixed amount is at
    most that total; either is split by `split_discount`. Nothing takes the order below the
    currency's minimum charge (Paystack's), so a discounted order can always be paid."""
    if (percent_bps is None) == (amount is None):
        raise ValueError("a discount is a percentage or an amount")
    chosen = [i for i, ok in enumerate(eligible) if ok]
    if not chosen:
        return list(lines)
    currency = lines[0].currency
    base = sum(lines[i].amount for i in chosen)
    wanted = percent_of(base, percent_bps) if percent_bps is not None else min(amount.minor, base)  # type: ignore[union-attr]
    order_total = sum(line.amount for line in lines)
    wanted = min(wanted, max(0, order_total - CURRENCIES[currency].minimum))
    shares = split_discount([lines[i].amount for i in chosen], [lines[i].floor for i in chosen], wanted)
    out = list(lines)
    for i, share in zip(chosen, shares, strict=True):
        if share:
            line = lines[i]
            out[i] = replace(line, price=Money(currency, line.amount - share), list_price=line.price,
                             discount_code_id=code_id, discount_bearer=bearer)
    return out


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
