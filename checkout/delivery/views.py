"""Product page views, counted without tracking anyone.

The static product page sends one bodiless `POST /v/<slug>` to the edge, with no cookie (the
script asks for `credentials: "omit"`); the edge adds one to the counter of that product and
UTC day, and keeps nothing else: no cookie is read or set, no IP address or user agent is
written anywhere (the request log line of this route carries neither). Requests that say they
come from a robot (user agent), ask not to be tracked (`DNT: 1`, `Sec-GPC: 1`), name a product
the catalogue does not list, or come from another site than the storefront are answered the
same and counted nowhere. VIEW_COUNTING=false turns it off. The privacy policy's data table
says all of this (content/legal/privacy.md).

The counts are a seller's conversion figure (sales per view), not an audit: a script can
inflate them, and visitors without JavaScript are not counted.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from checkout.core.context import Edge
from checkout.core.db import atomic

BOTS = re.compile(r"bot|crawl|spider|slurp|scrape|fetch|preview|monitor|headless|lighthouse|pingdom|curl|wget|"
                  r"python|httpx|java/|go-http|okhttp|axios|node-fetch|facebookexternalhit|embedly|whatsapp|"
                  r"telegram|discord|skype|bingpreview|yandex|baidu|duckduck|semrush|ahrefs|mj12", re.I)


def countable(edge: "Edge", slug: str, headers: Mapping[str, str]) -> bool:
    """Whether a view request should count (see the module's docstring)."""
    if not edge.settings.VIEW_COUNTING:
        return False
    agent = headers.get("user-agent", "")
    if not agent or BOTS.search(agent):
        return False
    if headers.get("dnt") == "1" or headers.get("sec-gpc") == "1":
        return False
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/") not in (edge.settings.SITE_URL, edge.settings.CHECKOUT_URL):
        return False
    return slug in edge.catalog.current().products


def count(edge: "Edge", slug: str) -> None:
    with atomic(edge.db):
        edge.db.execute("INSERT INTO product_views (product_slug, day, views) VALUES (?, ?, 1)"
                        " ON CONFLICT (product_slug, day) DO UPDATE SET views = views + 1",
                        (slug, edge.clock.iso()[:10]))


def per_product(edge: "Edge", slugs: list[str], start: str, end: str) -> dict[str, int]:
    """Views of each of `slugs` on the days from `start` to `end` (YYYY-MM-DD, both included)."""
    if not slugs:
        return {}
    rows = edge.db.execute(f"SELECT product_slug, SUM(views) FROM product_views WHERE day BETWEEN ? AND ?"
                           f" AND product_slug IN ({', '.join('?' * len(slugs))}) GROUP BY product_slug",
                           (start, end, *slugs))
    return {r[0]: int(r[1]) for r in rows}


def total(edge: "Edge", start: str, end: str) -> int:
    row = edge.db.execute("SELECT COALESCE(SUM(views), 0) FROM product_views WHERE day BETWEEN ? AND ?",
                          (start, end)).fetchone()
    return int(row[0])


def conversion(sales: int, views: int) -> str:
    """Sales per view as a percentage for people ("2.4%"), or an en dash without views."""
    return f"{100 * sales / views:.1f}%" if views else "–"


def as_row(slug: str, views: dict[str, int], sales: int) -> dict[str, Any]:
    return {"slug": slug, "views": views.get(slug, 0), "sales": sales, "conversion": conversion(sales, views.get(slug, 0))}
