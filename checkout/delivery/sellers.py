"""Which catalogue seller a user account sells as, and a seller's Markdown file."""

from __future__ import annotations

import io
from typing import Any

import yaml

from checkout.core.context import Edge
from digitaldock.money import CURRENCIES
from digitaldock.schema import SELLER_FIELDS


def seller_slug_of(edge: "Edge", user_id: int) -> str | None:
    if edge.db["seller_accounts"].exists():
        row = edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY created_at LIMIT 1",
                              (user_id,)).fetchone()
        if row:
            return str(row[0])
    row = edge.db.execute("SELECT seller_slug FROM submissions WHERE user_id = ? AND seller_slug IS NOT NULL"
                          " ORDER BY id LIMIT 1", (user_id,)).fetchone()
    return str(row[0]) if row else None


def payout_currency_of(edge: "Edge", user_id: int) -> str | None:
    """The payout currency of the catalogue seller the account sells as, or None: a new product
    is priced in it by default."""
    slug = seller_slug_of(edge, user_id)
    seller = edge.catalog.current().sellers.get(slug) if slug else None
    currency = seller.get("payout_currency") if isinstance(seller, dict) else None
    return currency if currency in CURRENCIES else None


def render_seller(meta: dict[str, Any], bio: str) -> str:
    """A seller's Markdown: front matter in the schema's order (false flags and empty values
    left out), then the bio."""
    ordered = {k: meta[k] for k in SELLER_FIELDS if meta.get(k) not in (None, "", False, [], ())}
    front = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{bio.strip()}\n"


def new_seller_files(slug: str, display_name: str, currency: str) -> dict[str, bytes]:
    """`content/sellers/<slug>.md` with a generated avatar, for a seller the catalogue lacks."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (96, 96), (31, 95, 139)).save(buf, "PNG")
    name = display_name.strip()[:80] if len(display_name.strip()) >= 2 else slug
    text = render_seller({"name": name, "avatar": f"images/sellers/{slug}.png", "payout_currency": currency},
                         f"{name} sells digital products on DigitalDock.")
    return {f"sellers/{slug}.md": text.encode(), f"images/sellers/{slug}.png": buf.getvalue()}
