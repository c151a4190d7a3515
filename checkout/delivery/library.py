"""The buyer's library: what they own, with files, versions and downloads left.

Files come from the catalogue the edge loaded (`catalog.json` `products[slug].files`), so a new
version of a product shows up in every owner's library at once; `notify_new_versions` emails
the owners through the outbox, once per version. `check` is the daily delivery check.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from checkout.core import outbox
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import NotFound
from checkout.delivery import retention
from checkout.delivery.retention import WithdrawnProduct
from checkout.delivery.storage import storage
from checkout.payments import licenses
from digitaldock.published import PublishedFile, PublishedProduct
from digitaldock.storage import StorageError

STARTED = "started"


def product(edge: "Edge", slug: str) -> PublishedProduct | WithdrawnProduct | None:
    """The product as the catalogue lists it; a withdrawn one as last listed while its files are kept."""
    found = edge.catalog.current().products.get(slug)
    return found if found is not None else retention.withdrawn_product(edge, slug)


def _purchase(edge: "Edge", purchase_id: int) -> Any:
    return edge.db.execute("SELECT * FROM purchases WHERE id = ?", (purchase_id,)).fetchone()


def _file(edge: "Edge", purchase: Any, sha256: str) -> PublishedFile:
    prod = product(edge, purchase["product_slug"])
    for f in prod.files if prod is not None else ():
        if f.sha256 == sha256:
            return f
    raise NotFound("That file is not part of a product you own.", code="file_not_owned")


def owned_purchase(edge: "Edge", purchase_id: int) -> dict[str, Any] | None:
    """The purchase row (its owner was checked by `links.mint`)."""
    row = _purchase(edge, purchase_id)
    return dict(row) if row is not None else None


def used(edge: "Edge", purchase_id: int, sha256: str) -> int:
    row = edge.db.execute("SELECT COUNT(*) FROM downloads WHERE purchase_id = ? AND file_sha256 = ? AND outcome = ?",
                          (purchase_id, sha256, STARTED)).fetchone()
    return int(row[0])


def library(edge: "Edge", user_id: int) -> list[dict[str, Any]]:
    """Every product the user bought, newest first, with files, versions and downloads left."""
    rows = edge.db.execute(
        "SELECT p.*, l.title AS line_title FROM purchases p LEFT JOIN order_lines l ON l.id = p.order_line_id"
        " WHERE p.user_id = ? ORDER BY p.created_at DESC, p.id DESC", (user_id,)).fetchall()
    return _items(edge, rows, "user_id = ?", user_id)


def of_order(edge: "Edge", order_id: int) -> list[dict[str, Any]]:
    """The purchases of one order (a guest's library for that order, the thank-you page), in
    the order's line order, with files, versions and downloads left."""
    rows = edge.db.execute(
        "SELECT p.*, l.title AS line_title FROM purchases p LEFT JOIN order_lines l ON l.id = p.order_line_id"
        " WHERE p.order_id = ? ORDER BY p.order_line_id", (order_id,)).fetchall()
    return _items(edge, rows, "purchase_id IN (SELECT id FROM purchases WHERE order_id = ?)", order_id)


def _items(edge: "Edge", rows: list[Any], counted: str, arg: int) -> list[dict[str, Any]]:
    counts: dict[tuple[int, str], int] = {}
    for r in edge.db.execute(f"SELECT purchase_id, file_sha256, COUNT(*) AS n FROM downloads WHERE {counted}"
                             " AND outcome = ? GROUP BY purchase_id, file_sha256", (arg, STARTED)):
        counts[(r["purchase_id"], r["file_sha256"])] = r["n"]
    allowance = edge.settings.DOWNLOADS_PER_FILE
    keys = licenses.for_purchases(edge, [r["id"] for r in rows])
    items = []
    for r in rows:
        prod = product(edge, r["product_slug"])
        files = []
        for f in prod.files if prod is not None else ():
            n = counts.get((r["id"], f.sha256), 0)
            files.append({**f.to_json(), "used": n, "left": max(0, allowance - n)})
        items.append({"purchase_id": r["id"], "slug": r["product_slug"], "status": r["status"],
                      "title": (prod.title if prod else "") or r["line_title"] or r["product_slug"],
                      "version": prod.version if prod else "", "url": prod.url if prod else "",
                      "bought_at": r["created_at"], "files": files, "available": prod is not None,
                      "license": keys.get(r["id"]),
                      "stamped": bool(getattr(prod, "stamp_pdfs", False)),
                      "order_id": r["order_id"]})
    return items


def order_of_purchase(edge: "Edge", purchase_id: int) -> str | None:
    """The reference of the order a purchase came from (a guest's browser holds orders, not accounts)."""
    row = edge.db.execute("SELECT o.reference FROM purchases p JOIN orders o ON o.id = p.order_id WHERE p.id = ?",
                          (purchase_id,)).fetchone()
    return str(row[0]) if row else None


def history(edge: "Edge", user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = edge.db.execute("SELECT * FROM downloads WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                           (user_id, limit)).fetchall()
    return [dict(r) for r in rows]


def seller_counts(edge: "Edge", seller: str) -> dict[str, int]:
    """Started downloads per product of a catalogue seller."""
    rows = edge.db.execute("SELECT product_slug, COUNT(*) AS n FROM downloads WHERE seller = ? AND outcome = ?"
                           " GROUP BY product_slug", (seller, STARTED)).fetchall()
    return {r["product_slug"]: r["n"] for r in rows}


def _files_hash(prod: PublishedProduct) -> str:
    shas = sorted(f.sha256 for f in prod.files)
    return hashlib.sha256(json.dumps(shas).encode()).hexdigest()


def notify_new_versions(edge: "Edge") -> int:
    """Email the owners of every product whose version or files changed since last seen.

    The first sighting of a product only records it. Returns the number of emails queued.
    """
    products = edge.catalog.current().products
    seen = {r["product_slug"]: r for r in edge.db.execute("SELECT * FROM product_versions")}
    queued = 0
    for slug, prod in sorted(products.items()):
        version, fh = prod.version, _files_hash(prod)
        old = seen.get(slug)
        if old is not None and old["version"] == version and old["files_hash"] == fh:
            continue
        with atomic(edge.db):
            edge.db.execute("INSERT INTO product_versions (product_slug, version, files_hash, seen_at) VALUES (?,?,?,?)"
                            " ON CONFLICT(product_slug) DO UPDATE SET version = excluded.version,"
                            " files_hash = excluded.files_hash, seen_at = excluded.seen_at",
                            (slug, version, fh, edge.clock.iso()))
            if old is None:
                continue
            owners = edge.db.execute(
                "SELECT DISTINCT u.id, u.email, u.display_name FROM purchases p JOIN users u ON u.id = p.user_id"
                " WHERE p.product_slug = ? AND p.status = 'active' AND u.anonymised_at IS NULL", (slug,)).fetchall()
            for u in owners:
                outbox.enqueue(edge, "new_version", u["email"], u["id"], name=u["display_name"],
                               title=prod.title, version=version,
                               link=f"{edge.settings.CHECKOUT_URL}/library")
                queued += 1
    return queued


def forget_download_addresses(edge: "Edge", now: float) -> dict[str, int]:
    """Retention: after LOG_RETENTION_DAYS a download row keeps what, when and the outcome, and
    loses the IP address and user agent (personal data the counts do not need)."""
    cutoff = iso(now - edge.settings.LOG_RETENTION_DAYS * 86400)
    cur = edge.db.execute("UPDATE downloads SET ip = NULL, user_agent = NULL WHERE at < ?"
                          " AND (ip IS NOT NULL OR user_agent IS NOT NULL)", (cutoff,))
    return {"download_addresses_cleared": cur.rowcount}


def check(edge: "Edge") -> list[str]:
    """Problems a person must look at: paid orders without a working download, missing files."""
    problems: list[str] = []
    products = edge.catalog.current().products
    store = storage(edge)
    missing: dict[str, bool] = {}
    orders = edge.db.execute("SELECT id, reference FROM orders WHERE status = 'paid' ORDER BY id").fetchall()
    for order in orders:
        purchases = edge.db.execute("SELECT * FROM purchases WHERE order_id = ? AND status = 'active'",
                                    (order["id"],)).fetchall()
        working = False
        for p in purchases:
            prod = products.get(p["product_slug"]) or retention.withdrawn_product(edge, p["product_slug"])
            if prod is None:
                problems.append(f"order {order['reference']}: purchase {p['id']} ({p['product_slug']}) "
                                "is not in the catalogue")
                continue
            for f in prod.files:
                key = f.key
                if key not in missing:
                    try:
                        missing[key] = store.stat(key) is None
                    except StorageError as exc:
                        problems.append(f"storage: {exc}")
                        return problems
                if missing[key]:
                    problems.append(f"order {order['reference']}: purchase {p['id']} ({p['product_slug']}) "
                                    f"file {f.name} is missing from storage ({key})")
                else:
                    working = True
        if not working:
            problems.append(f"order {order['reference']}: paid but the buyer has no working download")
    return problems


def download_log(edge: "Edge", limit: int = 500) -> list[dict[str, Any]]:
    """Every download attempt, newest first, with the account's email."""
    return [dict(r) for r in edge.db.execute(
        "SELECT d.*, u.email FROM downloads d LEFT JOIN users u ON u.id = d.user_id ORDER BY d.id DESC LIMIT ?", (limit,))]


def started_per_product(edge: "Edge", limit: int = 200, slugs: list[str] | None = None) -> list[dict[str, Any]]:
    """Started downloads per product (all products, or the given ones), most downloaded first."""
    where, args = "outcome = ?", [STARTED]
    if slugs is not None:
        if not slugs:
            return []
        where += f" AND product_slug IN ({','.join('?' * len(slugs))})"
        args += slugs
    return [dict(r) for r in edge.db.execute(
        f"SELECT product_slug, seller, COUNT(*) AS started FROM downloads WHERE {where}"
        " GROUP BY product_slug, seller ORDER BY started DESC LIMIT ?", (*args, limit))]
