"""Tax rates per buyer country, kept in git as `content/tax_rates.yml` (issue #18).

One module reads them for everyone: `digitaldock validate` checks the file, the edge prices
orders with it. A rate is an integer of basis points (2100 = 21 %), never a float; a country
the file does not list pays `default`. The file goes through the strict YAML loader of the
front matter (`digitaldock.frontmatter.load_yaml`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digitaldock import frontmatter
from digitaldock.errors import DigitalDockError

COUNTRY = re.compile(r"^[A-Z]{2}\Z")
MAX_BPS = 10_000


class TaxRatesError(DigitalDockError, ValueError):
    """The tax rates file is not in the expected shape; the message names the field."""


@dataclass(frozen=True)
class TaxRate:
    country: str  # ISO 3166-1 alpha-2, or "" for the default
    name: str  # the country's name, shown in the checkout's list
    bps: int
    tax: str = ""  # "VAT", or empty when no tax is due

    @property
    def percent(self) -> str:
        """The rate as an exact decimal percentage ("21", "25.5")."""
        whole, frac = divmod(self.bps, 100)
        return f"{whole}" if not frac else f"{whole}.{frac:02d}".rstrip("0")


@dataclass(frozen=True)
class TaxRates:
    version: str = ""
    default: TaxRate = TaxRate("", "No tax", 0)
    countries: dict[str, TaxRate] = field(default_factory=dict)

    def rate_for(self, country: str | None) -> TaxRate:
        """The rate of `country` (an ISO code), or the default for any other value."""
        if isinstance(country, str) and country in self.countries:
            return self.countries[country]
        return TaxRate(country if isinstance(country, str) and COUNTRY.match(country) else "", self.default.name,
                       self.default.bps, self.default.tax)

    def choices(self) -> list[TaxRate]:
        """The countries a buyer can pick, by name."""
        return sorted(self.countries.values(), key=lambda r: r.name)


def _rate(where: str, country: str, value: Any) -> TaxRate:
    if not isinstance(value, dict):
        raise TaxRatesError(f"{where}: expected a mapping with name and bps")
    unknown = set(value) - {"name", "bps", "tax"}
    if unknown:
        raise TaxRatesError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    name, bps, tax = value.get("name"), value.get("bps"), value.get("tax", "")
    if not isinstance(name, str) or not 2 <= len(name.strip()) <= 80:
        raise TaxRatesError(f"{where}.name: expected a name of 2–80 characters")
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= MAX_BPS:
        raise TaxRatesError(f"{where}.bps: expected whole basis points from 0 to {MAX_BPS}, got {bps!r}")
    if not isinstance(tax, str) or len(tax) > 20:
        raise TaxRatesError(f"{where}.tax: expected a short name such as VAT")
    return TaxRate(country, name.strip(), bps, tax.strip())


def parse(text: str) -> TaxRates:
    """Parse the file's text; a TaxRatesError names the first field that is wrong."""
    try:
        data = frontmatter.load_yaml(text)
    except frontmatter.FrontMatterError as exc:
        raise TaxRatesError(f"line {exc.line}: {exc.message}") from None
    if not isinstance(data, dict):
        raise TaxRatesError("the file must be a mapping with default and countries")
    unknown = set(data) - {"version", "default", "countries"}
    if unknown:
        raise TaxRatesError(f"unknown field {sorted(unknown)[0]!r}")
    version = data.get("version", "")
    if not isinstance(version, str):
        raise TaxRatesError("version: expected text such as \"2025-09-01\"")
    default = _rate("default", "", data.get("default") or {"name": "No tax", "bps": 0})
    countries = data.get("countries") or {}
    if not isinstance(countries, dict):
        raise TaxRatesError("countries: expected a mapping of country codes")
    rates = {}
    for code, value in countries.items():
        if not isinstance(code, str) or not COUNTRY.match(code):
            raise TaxRatesError(f"countries: {code!r} is not a two-letter country code in capitals")
        rates[code] = _rate(f"countries.{code}", code, value)
    return TaxRates(version, default, rates)


def load(path: str | Path) -> TaxRates:
    """The rates in `path`; a missing file means the default (no tax) for every country."""
    p = Path(path)
    if not p.exists():
        return TaxRates()
    return parse(p.read_text(encoding="utf-8"))
