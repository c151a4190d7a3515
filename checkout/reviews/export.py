"""The export the static build reads: per product the rating count, sum and histogram of counted
reviews, the latest approved reviews, and units sold in the last 30 days (`digitaldock.stats`).

`export` reads it all in three grouped queries (no per-product round trips), so 10,000 products
with 200,000 reviews take well under the 2 s target (benchmarks/reviews.py). `publish` writes the
file only when its bytes change and then rebuilds the storefront the way an approved upload
does (`checkout.delivery.approval.rebuild`, when REBUILD_ON_APPROVAL): the build's cache
re-renders only the pages whose numbers moved.
"""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
import structlog

from checkout.core.context import Edge
from checkout.core.db import connect_readonly
from checkout.delivery import approval
from checkout.reviews.reviews import counted
from digitaldock.stats import MAX_RECENT, ProductStats, ReviewExcerpt, Stats, write_stats

log = structlog.get_logger("checkout.reviews.export")
POPULARITY_DAYS = 30
OWNED = "JOIN purchases p ON p.user_id = r.user_id AND p.product_slug = r.product_slug AND p.status = 'active'"


def export(edge: Edge, db: sqlite_utils.Database | None = None) -> Stats:
    """The stats of every product with a counted review or a sale in the last 30 days (read
    from `db`, a read-only connection of its own when off the event loop, else the edge's)."""
    db = db or edge.db
    hist: dict[str, list[int]] = {}
    # a join, not EXISTS: at most one active purchase per buyer and product (purchases_one_active)
    for slug, rating, n in db.execute(f"SELECT r.product_slug, r.rating, COUNT(*) FROM reviews r {OWNED}"
                                      " WHERE r.status = 'approved' GROUP BY r.product_slug, r.rating"):
        hist.setdefault(slug, [0] * 5)[rating - 1] = n
    recent: dict[str, list[ReviewExcerpt]] = {}
    # each rated product's latest counted reviews through reviews_product, not a window over all
    rows = db.execute(
        "SELECT r.id, r.product_slug, r.rating, r.title, r.body, r.created_at, r.reply, u.display_name"
        " FROM (SELECT DISTINCT product_slug FROM reviews WHERE status = 'approved') s"
        " JOIN reviews r ON r.id IN (SELECT r2.id FROM reviews r2 WHERE r2.product_slug = s.product_slug"
        f"  AND {counted('r2')} ORDER BY r2.created_at DESC, r2.id DESC LIMIT ?)"
        " JOIN users u ON u.id = r.user_id ORDER BY r.product_slug, r.created_at DESC, r.id DESC", (MAX_RECENT,))
    for rid, slug, rating, title, body, created, reply, author in rows:
        recent.setdefault(slug, []).append(ReviewExcerpt(rid, rating, title, body, author, created[:10], reply or ""))
    since = edge.clock.iso(-POPULARITY_DAYS * 86400)
    sold = dict(db.execute("SELECT product_slug, COUNT(*) FROM purchases WHERE status = 'active' AND created_at >= ?"
                           " GROUP BY product_slug", (since,)).fetchall())
    products = {}
    for slug in sorted(set(hist) | set(sold)):
        h = hist.get(slug, [0] * 5)
        products[slug] = ProductStats(count=sum(h), sum=sum(n * (i + 1) for i, n in enumerate(h)),
                                      histogram=tuple(h),  # type: ignore[arg-type]
                                      sold_30d=int(sold.get(slug, 0)), recent=tuple(recent.get(slug, ())))
    return Stats(products)


def publish(edge: Edge, rebuild: bool = True, db: sqlite_utils.Database | None = None) -> tuple[bool, str | None]:
    """Export to `settings.stats_path`; when the file changed, rebuild the storefront (the
    approval path). Returns (changed, rebuild problem or None)."""
    path = Path(edge.settings.stats_path)
    changed = write_stats(export(edge, db), path)
    problem = None
    if changed and rebuild and edge.settings.REBUILD_ON_APPROVAL:
        problem = approval.rebuild(edge)
    log.info("stats_exported", path=str(path), changed=changed, rebuild_problem=problem)
    return changed, problem


def publish_from(edge: Edge, database_path: Path) -> tuple[bool, str | None]:
    """`publish` from a worker thread, reading on a read-only connection of its own."""
    db = connect_readonly(database_path)
    try:
        return publish(edge, db=db)
    finally:
        db.conn.close()
