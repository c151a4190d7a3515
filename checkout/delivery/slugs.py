"""Who a product slug belongs to: the seller who first used it, forever.

Buyers' libraries, download links, order lines and the storefront's URLs all name a product by
its slug, and the approved Markdown names the seller. If a slug could pass to another seller,
the second seller's approved file would take over the first seller's page, and with it the
name on every old purchase of the product. So a slug that any other seller ever used is
refused, wherever the edge can see the use:

- the catalogue it has loaded now (`catalog.json`);
- `catalog_products`: every product the edge has seen in a catalogue, withdrawn ones included,
  with the seller it was first listed under;
- `content/products/<slug>.md`, the file an approval would overwrite;
- another user's submissions of the slug (any status: a draft or a rejected one reserves it
  too, which keeps the rule simple and a seller's work in progress theirs);
- order lines and purchases, which keep the seller of everything ever sold.

The uploader is `user_id` and, once a seller of the catalogue, `seller` (their catalogue slug).
A use by that seller or by that user is theirs; any other use, or a withdrawn product whose
seller the edge cannot tell (seen before it recorded sellers, never sold), refuses the slug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from checkout.core.context import Edge
from checkout.core.errors import ValidationFailed
from digitaldock import frontmatter, schema

TAKEN = "This product address belongs to another seller's product; choose another."


@dataclass
class Uses:
    """Every use of one slug the edge can see."""

    users: set[int] = field(default_factory=set)  # accounts that submitted it
    sellers: set[str] = field(default_factory=set)  # catalogue sellers it was listed or sold under
    unknown: bool = False  # seen in a catalogue under a seller not recorded


def uses(edge: "Edge", slug: str) -> Uses:
    found = Uses()
    db = edge.db
    found.users = {int(r[0]) for r in db.execute("SELECT DISTINCT user_id FROM submissions WHERE product_slug = ?",
                                                  (slug,))}
    product = edge.catalog.current().products.get(slug)
    if product is not None:
        found.sellers.add(product.seller)
    tables = set(db.table_names())
    if "catalog_products" in tables:
        row = db.execute("SELECT seller FROM catalog_products WHERE product_slug = ?", (slug,)).fetchone()
        if row is not None:
            if row[0]:
                found.sellers.add(str(row[0]))
            else:
                found.unknown = True
    for table in ("order_lines", "purchases"):
        if table in tables:
            found.sellers |= {str(r[0]) for r in db.execute(f"SELECT DISTINCT seller FROM {table}"  # noqa: S608
                                                            " WHERE product_slug = ?", (slug,))}
    seller = _content_seller(Path(edge.settings.CONTENT_DIR), slug)
    if seller is not None:
        found.sellers.add(seller)
    return found


def _content_seller(content: Path, slug: str) -> str | None:
    if not schema.SLUG.match(slug):
        return None
    path = content / "products" / f"{slug}.md"
    try:
        meta = frontmatter.split(path.read_text("utf-8")).meta
    except (OSError, ValueError, yaml.YAMLError):  # no file, or not one an approval wrote: no claim
        return None
    value = meta.get("seller") if isinstance(meta, dict) else None
    return str(value) if value else None


def check_free_for(edge: "Edge", slug: str, user_id: int, seller: str | None) -> None:
    """Refuse `slug` (a field error on `slug`) when anyone but this user or seller used it."""
    found = uses(edge, slug)
    others = found.users - {user_id} or found.sellers - ({seller} if seller else set())
    mine = user_id in found.users or (seller is not None and seller in found.sellers)
    if others or (found.unknown and not mine):
        raise ValidationFailed(TAKEN, fields={"slug": TAKEN}, code="slug_taken")


def seller_slugs_ever_used(edge: "Edge") -> set[str]:
    """Every catalogue seller slug the edge has recorded. A new seller never gets one of them:
    order lines, ledger accounts (`seller:<slug>:…`) and payouts are keyed by the slug, so a
    departed seller's slug given to a newcomer would hand over their sales and balance."""
    db = edge.db
    tables = set(db.table_names())
    queries = {"seller_accounts": "SELECT seller_slug FROM seller_accounts",
               "submissions": "SELECT DISTINCT seller_slug FROM submissions WHERE seller_slug IS NOT NULL",
               "order_lines": "SELECT DISTINCT seller FROM order_lines",
               "catalog_products": "SELECT DISTINCT seller FROM catalog_products WHERE seller IS NOT NULL"}
    return {str(r[0]) for table, sql in queries.items() if table in tables for r in db.execute(sql)}
