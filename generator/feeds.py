"""Atom feeds of the catalogue: the newest products of the whole shop and of each category.

Written by hand rather than with feedgenerator (the library Pelican writes its own feeds with),
for a measured reason. Rendering the 41 feeds of the 10,000-product build benchmark (2,050
entries) took 19 ms of CPU here and 94 ms through `feedgenerator.Atom1Feed` (2.2.1; best of
7, 2026-12-02, same machine and load), whose SAX writer handles every element, attribute and
text separately. Every cold build and every rebuild after a catalogue change renders all the
feeds, and the cold build was measured at 1.95 times the bare floor against issue #4's limit
of 2 times (benchmarks/README.md: 2.75 s against 2 × 1.41 s), a margin of 70 ms that the
extra 75 ms of CPU would all but use up.
tests/generator/test_feeds.py holds these feeds equal, element by element, to what
feedgenerator writes for the same products.

Feeds are part of a deterministic build, so nothing in them comes from the clock: a feed is
dated by its newest product (a fixed date when it has none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

ENTRIES = 50
EMPTY_FEED_DATE = dt.date(2000, 1, 1)


def _attr(value: str) -> str:
    """Text for a double-quoted XML attribute."""
    return escape(value, {'"': "&quot;"})


def atom_feed(m: Any, products: list[Any], title: str, self_url: str) -> bytes:
    # `m` is a generator.site.SiteModel and `products` its ProductViews, typed loosely because
    # the site module imports this one
    """The newest `ENTRIES` of `products` (they arrive newest first) as an Atom 1.0 feed."""
    base = m.settings.site_url
    newest = max((p.published for p in products), default=EMPTY_FEED_DATE)
    entries = []
    for p in products[:ENTRIES]:
        when = f"{p.published.isoformat()}T00:00:00Z"
        entries.append(
            "<entry>"
            f"<title>{escape(p.title)}</title>"
            f'<link href="{_attr(base + p.url)}" rel="alternate"/>'
            f"<id>{escape(base + p.url)}</id>"
            f"<published>{when}</published><updated>{when}</updated>"
            f"<author><name>{escape(p.seller_obj.name)}</name></author>"
            f'<category term="{_attr(p.category)}"/>'
            f'<summary type="text">{escape(p.summary)} — {escape(p.price_display)}</summary>'
            "</entry>"
        )
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(m.settings.site_name)}: {escape(title)}</title>"
        f'<link href="{_attr(base)}/" rel="alternate"/>'
        f'<link href="{_attr(base + self_url)}" rel="self"/>'
        f"<id>{escape(base + self_url)}</id>"
        f"<updated>{newest.isoformat()}T00:00:00Z</updated>"
        + "".join(entries) + "</feed>\n"
    )
    return xml.encode()
