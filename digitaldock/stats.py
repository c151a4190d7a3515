"""What the storefront shows that buyers made: ratings, recent reviews and popularity.

The checkout edge holds reviews and sales; the static build must not import it. The edge
writes one JSON document (`digitaldock reviews export`, also after every review decision and
sale, see docs/content.md) and the build reads it with `load_stats`. Nothing here is typed in
by hand: a product absent from the file has no rating and no sales, and shows no stars.

The document (version 1), written with sorted keys so the same records give the same bytes:

    {"version": 1,
     "products": {"<slug>": {"count": 12, "sum": 55, "histogram": [n1, n2, n3, n4, n5],
                            "sold_30d": 7,
                            "recent": [{"id", "rating", "title", "body", "author", "date",
                                        "reply"}]}}}

`count` and `sum` are over approved reviews of purchases not refunded; the average is derived
here (one decimal, half up), never stored, so it cannot disagree with the histogram.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DigitalDockError

STATS_VERSION = 1
MAX_RECENT = 5  # reviews per product baked into its page; the edge serves the rest
MAX_STATS_BYTES = 512 * 1024 * 1024


class StatsError(DigitalDockError, ValueError):
    """The stats file is not what `dump_stats` writes; the message names the place."""


@dataclass(frozen=True)
class ReviewExcerpt:
    """One approved review as the product page shows it (plain text; the page escapes it)."""

    id: int
    rating: int
    title: str
    body: str
    author: str  # a display name, never an email
    date: str  # ISO date of the review
    reply: str = ""  # the seller's public reply


@dataclass(frozen=True)
class ProductStats:
    count: int = 0
    sum: int = 0
    histogram: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # reviews with 1..5 stars
    sold_30d: int = 0
    recent: tuple[ReviewExcerpt, ...] = ()

    @property
    def stars_x10(self) -> int:
        """The average in tenths of a star, rounded half up (46 for 4.6); 0 without reviews."""
        if not self.count:
            return 0
        return (self.sum * 20 + self.count) // (2 * self.count)

    @property
    def average(self) -> str:
        """"4.6": the aggregate a page and JSON-LD show."""
        x = self.stars_x10
        return f"{x // 10}.{x % 10}"

    @property
    def histogram_rows(self) -> list[tuple[int, int, int]]:
        """(stars, count, percent of reviews), five stars first, for the product page."""
        total = self.count or 1
        return [(n, self.histogram[n - 1], round(100 * self.histogram[n - 1] / total)) for n in (5, 4, 3, 2, 1)]


@dataclass
class Stats:
    products: dict[str, ProductStats] = field(default_factory=dict)

    def rating(self, slug: str) -> ProductStats | None:
        """The product's stats when it has at least one counted review, else None (no stars)."""
        found = self.products.get(slug)
        return found if found is not None and found.count > 0 else None

    def sold(self, slug: str) -> int:
        found = self.products.get(slug)
        return found.sold_30d if found is not None else 0


def _int(value: Any, where: str, lo: int = 0, hi: int = 2**53) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise StatsError(f"{where}: must be a whole number from {lo} to {hi}")
    return value


def _str(value: Any, where: str, limit: int = 20_000) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise StatsError(f"{where}: must be text of at most {limit} characters")
    return value


def _excerpt(item: Any, where: str) -> ReviewExcerpt:
    if not isinstance(item, dict):
        raise StatsError(f"{where}: must be an object")
    return ReviewExcerpt(id=_int(item.get("id"), f"{where}.id", 1), rating=_int(item.get("rating"), f"{where}.rating", 1, 5),
                         title=_str(item.get("title", ""), f"{where}.title", 200),
                         body=_str(item.get("body", ""), f"{where}.body"),
                         author=_str(item.get("author", ""), f"{where}.author", 200),
                         date=_str(item.get("date", ""), f"{where}.date", 40),
                         reply=_str(item.get("reply", ""), f"{where}.reply"))


def _product(slug: str, item: Any) -> ProductStats:
    where = f"products.{slug}"
    if not isinstance(item, dict):
        raise StatsError(f"{where}: must be an object")
    hist = item.get("histogram", [0] * 5)
    if not isinstance(hist, list) or len(hist) != 5:
        raise StatsError(f"{where}.histogram: must be five counts (1 to 5 stars)")
    histogram = tuple(_int(n, f"{where}.histogram[{i}]") for i, n in enumerate(hist))
    count, total = _int(item.get("count", 0), f"{where}.count"), _int(item.get("sum", 0), f"{where}.sum")
    if sum(histogram) != count or sum(n * (i + 1) for i, n in enumerate(histogram)) != total:
        raise StatsError(f"{where}: count and sum disagree with the histogram")
    recent = item.get("recent", [])
    if not isinstance(recent, list) or len(recent) > MAX_RECENT:
        raise StatsError(f"{where}.recent: must be a list of at most {MAX_RECENT} reviews")
    return ProductStats(count=count, sum=total, histogram=histogram,  # type: ignore[arg-type]
                        sold_30d=_int(item.get("sold_30d", 0), f"{where}.sold_30d"),
                        recent=tuple(_excerpt(r, f"{where}.recent[{i}]") for i, r in enumerate(recent)))


def parse_stats(data: bytes | str) -> Stats:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StatsError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != STATS_VERSION:
        raise StatsError(f"version: must be {STATS_VERSION}")
    products = doc.get("products")
    if not isinstance(products, dict):
        raise StatsError("products: must be an object of product slug to stats")
    return Stats({str(slug): _product(slug, item) for slug, item in products.items()})


def load_stats(path: str | Path | None) -> Stats:
    """The stats file at `path`; no path or no file: no ratings and no sales (never invented)."""
    if path is None:
        return Stats()
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        return Stats()
    if size > MAX_STATS_BYTES:
        raise StatsError(f"{p}: larger than {MAX_STATS_BYTES} bytes")
    try:
        return parse_stats(p.read_bytes())
    except StatsError as exc:
        raise StatsError(f"{p}: {exc}") from None


def to_document(stats: Stats) -> dict[str, Any]:
    products = {}
    for slug, s in stats.products.items():
        products[slug] = {"count": s.count, "sum": s.sum, "histogram": list(s.histogram), "sold_30d": s.sold_30d,
                          "recent": [r.__dict__ for r in s.recent]}
    return {"version": STATS_VERSION, "products": products}


def dump_stats(stats: Stats) -> bytes:
    """The file's bytes: sorted keys, so unchanged records give an unchanged file (and build)."""
    return (json.dumps(to_document(stats), ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def write_stats(stats: Stats, path: str | Path) -> bool:
    """Write atomically; returns False (and writes nothing) when the file already says the same."""
    import os

    p = Path(path)
    data = dump_stats(stats)
    try:
        if p.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, p)
    return True
