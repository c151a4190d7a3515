"""Money is parsed from decimal strings into integer minor units, exactly, and back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digitaldock.money import (
    CURRENCIES,
    Money,
    MoneyError,
    format_money,
    parse_amount,
    to_decimal,
    usd_equivalent_cents,
)

codes = st.sampled_from(sorted(CURRENCIES))


@given(minor=st.integers(min_value=0, max_value=10**13), code=codes)
def test_decimal_round_trip(minor, code):  # up to 12 whole digits, as parse_amount allows
    text = to_decimal(minor, code)
    assert parse_amount(text, code) == minor
    assert isinstance(parse_amount(text, code), int)


@given(whole=st.integers(min_value=0, max_value=10**9), cents=st.integers(min_value=0, max_value=99),
       code=codes)
def test_parse_is_exact_where_floats_are_not(whole, cents, code):
    assert parse_amount(f"{whole}.{cents:02d}", code) == whole * 100 + cents


@given(minor=st.integers(min_value=0, max_value=10**12), code=codes)
def test_display_keeps_every_digit(minor, code):
    shown = format_money(minor, code)
    digits = "".join(ch for ch in shown if ch.isdigit())
    assert int(digits) in (minor, minor // 100)  # whole amounts may drop ".00"
    assert shown.startswith(CURRENCIES[code].symbol)


@pytest.mark.parametrize("text,code,expected", [
    ("12.50", "USD", 1250), ("12.5", "USD", 1250), ("12", "USD", 1200), (12, "USD", 1200),
    ("15000", "NGN", 1_500_000), ("0.10", "GHS", 10), (" 3 ", "KES", 300),
])
def test_parse_examples(text, code, expected):
    assert parse_amount(text, code) == expected


@pytest.mark.parametrize("text,code,message", [
    ("12.505", "USD", "USD has 2 decimal places, '12.505' has 3"),
    ("-1", "USD", "'-1' is not a decimal amount"),
    ("1e3", "USD", "'1e3' is not a decimal amount"),
    ("1,000", "USD", "'1,000' is not a decimal amount"),
    ("", "USD", "'' is not a decimal amount"),
    ("10", "EUR", "unknown currency 'EUR'"),
    (-5, "USD", "must not be negative"),
    (True, "USD", "must be a decimal string"),
    (1.5, "USD", "must be a decimal string"),
])
def test_parse_refuses_ambiguous_input(text, code, message):
    with pytest.raises(MoneyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_amount(text, code)


def test_display_per_currency():
    assert format_money(1250, "USD") == "$12.50"
    assert format_money(1_500_000, "NGN") == "₦15,000"
    assert format_money(1_500_050, "NGN") == "₦15,000.50"
    assert format_money(9900, "ZAR") == "R99.00"
    assert format_money(-250, "USD") == "-$2.50"
    assert Money("KES", 30000).display() == "KSh300"
    assert Money("USD", 5).decimal == "0.05"


def test_money_arithmetic_refuses_mixed_currencies():
    assert Money("USD", 100) + Money("USD", 250) == Money("USD", 350)
    assert Money("USD", 100) - Money("USD", 250) == Money("USD", -150)
    with pytest.raises(MoneyError, match="cannot mix USD and NGN"):
        Money("USD", 1) + Money("NGN", 1)
    with pytest.raises(MoneyError, match="integer"):
        Money("USD", 1.0)
    with pytest.raises(MoneyError, match="unknown currency"):
        Money("XXX", 1)


def test_usd_equivalent_orders_mixed_currencies():
    assert usd_equivalent_cents(1_500_000, "NGN") == 1000
    assert usd_equivalent_cents(1000, "USD") == 1000
