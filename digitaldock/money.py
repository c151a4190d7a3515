"""Money as integers: an amount in minor units (kobo, pesewa, cent) plus an ISO currency.

Prices are written by people as decimal strings ("12.50") and parsed exactly once, here,
with string arithmetic only: a float never touches an amount. The currency table also holds
the per-currency price bounds that the schema and the validator enforce; the lower bounds
are Paystack's minimum charges (PAYSTACK.md), so a listed price can always be charged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DigitalDockError


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    exponent: int  # digits after the decimal point
    minimum: int  # smallest listable price, minor units (Paystack's minimum charge)
    maximum: int  # largest listable price, minor units (a sanity bound against typos)
    name: str


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("NGN", "₦", 2, 5_000, 1_000_000_000, "Nigerian naira"),
        Currency("GHS", "GH₵", 2, 10, 10_000_000, "Ghanaian cedi"),
        Currency("ZAR", "R", 2, 100, 20_000_000, "South African rand"),
        Currency("KES", "KSh", 2, 300, 150_000_000, "Kenyan shilling"),
        Currency("USD", "$", 2, 200, 1_000_000, "US dollar"),
    )
}


# Units of each currency per US dollar, rounded. Used ONLY to sort a mixed-currency listing
# by price and to put products into the search page's price bands; never to charge anyone.
REFERENCE_PER_USD: dict[str, int] = {"USD": 1, "NGN": 1500, "GHS": 15, "ZAR": 18, "KES": 130}


def usd_equivalent_cents(minor: int, code: str) -> int:
    """An approximate US-cent value for ordering and banding prices across currencies."""
    return minor // REFERENCE_PER_USD[code]


class MoneyError(DigitalDockError, ValueError):
    """Raised when an amount or a currency cannot be parsed; the message is for a person."""


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount. Comparing or adding two amounts of different currencies is an error."""

    currency: str
    minor: int

    def __post_init__(self) -> None:
        if self.currency not in CURRENCIES:
            raise MoneyError(f"unknown currency {self.currency!r}; use one of {', '.join(CURRENCIES)}")
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("amount must be an integer number of minor units")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor + other.minor)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.currency, self.minor - other.minor)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    @property
    def decimal(self) -> str:
        """The plain decimal string ("1250" USD → "12.50"); parse_amount() reads it back."""
        return to_decimal(self.minor, self.currency)

    def display(self) -> str:
        """The amount as a visitor reads it: "$12.50", "₦15,000", "R 99.00"."""
        return format_money(self.minor, self.currency)


def currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise MoneyError(f"unknown currency {code!r}; use one of {', '.join(CURRENCIES)}") from None


_DECIMAL = re.compile(r"^(?P<whole>[0-9]{1,12})(?:\.(?P<frac>[0-9]+))?\Z")  # ASCII digits: int("１２") is 12 too


def parse_amount(text: str | int, code: str) -> int:
    """Parse "12.50" (or the integer 12) in `code` into minor units, exactly.

    Refuses signs, exponents, thousands separators and more fraction digits than the
    currency has, because each of those is more often a typo than an intention.
    """
    cur = currency(code)
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise MoneyError('must be a decimal string such as "12.50"')
    if isinstance(text, int):
        if text < 0:
            raise MoneyError("must not be negative")
        return text * 10**cur.exponent
    m = _DECIMAL.match(text.strip())
    if not m:
        raise MoneyError(f'{text!r} is not a decimal amount such as "12.50"')
    frac = m.group("frac") or ""
    if len(frac) > cur.exponent:
        raise MoneyError(f"{code} has {cur.exponent} decimal places, {text!r} has {len(frac)}")
    return int(m.group("whole")) * 10**cur.exponent + int(frac.ljust(cur.exponent, "0") or "0")


def to_decimal(minor: int, code: str) -> str:
    cur = currency(code)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**cur.exponent)
    if cur.exponent == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{cur.exponent}d}"


def format_money(minor: int, code: str) -> str:
    """Display form with the currency symbol and thousands separators.

    Whole amounts in naira, shillings and cedis drop the ".00" as shops there do; dollar and
    rand prices keep their cents.
    """
    cur = currency(code)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**cur.exponent)
    text = f"{whole:,}"
    if frac or code in ("USD", "ZAR"):
        text += f".{frac:0{cur.exponent}d}"
    return f"{sign}{cur.symbol}{text}"
