"""Small display helpers used by the templates and the search index: sizes, dates, stars, bands."""

from __future__ import annotations

import datetime as dt


def human_size(n: int) -> str:
    """1536 → "1.5 KB". Binary multiples, one decimal below 10, as file managers show them."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            if unit == "bytes":
                return f"{n} byte" + ("" if n == 1 else "s")
            return f"{size:.1f} {unit}" if size < 10 else f"{size:.0f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def long_date(d: dt.date) -> str:
    """2026-11-27 → "27 November 2026", in English whatever the machine's locale (strftime's
    %B follows LC_TIME, and the same content must build the same bytes everywhere)."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def stars(average: str) -> str:
    """"4.6" → "★★★★★" style text with half-up rounding to whole stars, for screen and print."""
    whole, _, frac = average.partition(".")
    n = int(whole) + (1 if frac and int(frac[0]) >= 5 else 0)
    return "★" * n + "☆" * (5 - n)


# Price bands (US-cent equivalents) for the search page's price-range filter.
PRICE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 1000, "Under $10"),
    (1000, 2500, "$10 to $25"),
    (2500, 5000, "$25 to $50"),
    (5000, None, "$50 and over"),
)


def rating_label(stars: int) -> str:
    return f"{stars} star{'' if stars == 1 else 's'} and up"
