"""The static search index: one JSON file the search page queries in the browser.

We started with Pagefind, but its filter index is written from hash maps in a different
order on every run, so two builds of the same catalogue were not byte-identical. This index
is a plain, sorted JSON document of what a shopper searches, filters and sorts by; at the
catalogue sizes a marketplace has it stays small (about 250 bytes per product before
compression) and needs no server.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from .formatting import PRICE_BANDS, rating_label

INDEX_VERSION = 1


def fold(text: str) -> str:
    """Lower case without accents, so "Café" is found by "cafe" (the JS side does the same)."""
    if text.isascii():  # NFKD leaves ASCII as it is, and it has no accents to drop
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_index(m: Any) -> bytes:
    """The index of a `generator.site.SiteModel` (typed loosely: the site module imports this one)."""
    products = []
    for p in sorted(m.products, key=lambda p: p.slug):
        words = " ".join([p.title, p.summary, " ".join(p.tags), p.category_obj.name, p.seller_obj.name,
                          p.license])
        products.append({
            "url": p.url,
            "title": p.title,
            "seller": p.seller_obj.name,
            "category": p.category_obj.name,
            "price": p.pwyw_display and f"from {p.pwyw_display}" or p.price_display,
            "price_sort": p.usd_cents,
            "rating": p.rating.average if p.rating else None,
            "rating_sort": p.rating.stars_x10 if p.rating else 0,
            "rating_count": p.rating.count if p.rating else 0,
            "sold_30d": p.sold_30d,
            "published": p.published.isoformat(),
            "cover": {"src": p.cover_img.src, "width": p.cover_img.width, "height": p.cover_img.height},
            "text": fold(words),
            "title_text": fold(p.title),
            "filters": {"category": [p.category_obj.name], "price": [p.price_band],
                        "rating": p.rating_filters},
        })
    filters = {
        "category": [c.name for c in m.site.categories],
        "price": [label for _, _, label in PRICE_BANDS],
        "rating": [rating_label(n) for n in (4, 3, 2, 1)],
    }
    doc = {"version": INDEX_VERSION, "filters": filters, "products": products}
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()
