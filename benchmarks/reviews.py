"""Reviews and popularity into the static site: the export and the rebuild after one review.

1. The export (`checkout.reviews.export.export` + `write_stats`) over a database holding
   P products' worth of purchases and R approved reviews (default 10,000 and 200,000),
   written in bulk with executemany (the export only reads them). Best and median of 5.
2. On a catalogue of P synthetic products (benchmarks/build.py's content): the first publish
   (export + a cold build through `approval.rebuild`, the path an approved upload takes), a
   publish with nothing changed (no write, no rebuild), and a publish after one new approved
   review (export + incremental rebuild): the time from "a moderator approved" to "the page
   on disk shows it".

    .venv/bin/python benchmarks/reviews.py [--products 10000] [--reviews 200000] [--skip-build]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from build import make_content  # noqa: E402 - the build benchmark's synthetic catalogue

from checkout.core.settings import load_settings  # noqa: E402
from checkout.delivery import approval  # noqa: E402
from checkout.reviews import export  # noqa: E402
from checkout.wiring import build_edge  # noqa: E402
from digitaldock.stats import load_stats, write_stats  # noqa: E402
from generator.build import last_build  # noqa: E402

SAYS = ("Clear and useful.", "Good value; the files open everywhere.", "Not what I expected.",
        "Excellent **quality**, quick download.", "Fine.")


def fill(edge, products: int, reviews: int) -> None:
    """`reviews` buyers, each with one purchase and one approved review of product i % products."""
    conn = edge.db.conn
    conn.execute("PRAGMA foreign_keys = OFF")  # orders and lines are not what the export reads
    now = time.time()
    users, purchases, rows = [], [], []
    for i in range(reviews):
        when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - (i % 60) * 86400 - i))
        slug = f"product-{i % products:05d}"
        users.append((i + 1, f"bench{i}@example.com", f"Buyer {i}", "x", "buyer", when))
        purchases.append((i + 1, i + 1, 0, i + 1, slug, "bench", "active", when))
        rows.append((i + 1, slug, "bench", 1 + (i * 7) % 5, f"Review {i}", SAYS[i % len(SAYS)], "approved",
                     when, when))
    with conn:
        conn.executemany("INSERT INTO users (id, email, display_name, password_hash, role, created_at)"
                         " VALUES (?,?,?,?,?,?)", users)
        conn.executemany("INSERT INTO purchases (id, user_id, order_id, order_line_id, product_slug, seller, status,"
                         " created_at) VALUES (?,?,?,?,?,?,?,?)", purchases)
        conn.executemany("INSERT INTO reviews (user_id, product_slug, seller, rating, title, body, status, created_at,"
                         " updated_at) VALUES (?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("ANALYZE")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=10_000)
    ap.add_argument("--reviews", type=int, default=200_000)
    ap.add_argument("--skip-build", action="store_true", help="measure the export only")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dd-reviews-bench-"))
    try:
        content = work / "content"
        if not args.skip_build:
            print(f"generating {args.products} products in {work} ...", flush=True)
            content = make_content(work, args.products)
        settings = load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(work / "data"),
                                 CATALOG_PATH=str(work / "output" / "catalog.json"), CONTENT_DIR=str(content),
                                 REVIEWS_STATS_PATH=str(work / "stats.json"), REBUILD_ON_APPROVAL=True)
        edge = build_edge(settings)
        edge.migrate()
        print(f"writing {args.reviews} reviews of {args.products} products ...", flush=True)
        fill(edge, args.products, args.reviews)
        stats_file = work / "export-only.json"

        def export_once() -> None:
            write_stats(export.export(edge), stats_file)
            stats_file.unlink()

        walls = timed(export_once, 5)
        write_stats(export.export(edge), stats_file)
        size = stats_file.stat().st_size
        rated = sum(1 for s in load_stats(stats_file).products.values() if s.count)
        print(f"\nexport: {args.reviews} reviews, {rated} rated products, file {size / 1e6:.1f} MB")
        print(f"export + write, 5 runs: best {min(walls):.2f} s, median {statistics.median(walls):.2f} s"
              f" (target < 2 s)")
        if args.skip_build:
            return
        first = timed(lambda: export.publish(edge), 1)[0]
        same = timed(lambda: export.publish(edge), 1)[0]
        page = work / "output" / "products" / "product-00042" / "index.html"
        before = page.read_text()
        edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at)"
                        " VALUES ('new@example.com', 'New', 'x', 'buyer', ?)", (edge.clock.iso(),))
        uid = edge.db.execute("SELECT id FROM users WHERE email = 'new@example.com'").fetchone()[0]
        edge.db.conn.execute("PRAGMA foreign_keys = OFF")
        edge.db.execute("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status,"
                        " created_at) VALUES (?, 0, ?, 'product-00042', 'bench', 'active', ?)",
                        (uid, 10**9, edge.clock.iso()))
        edge.db.execute("INSERT INTO reviews (user_id, product_slug, seller, rating, title, body, status, created_at,"
                        " updated_at) VALUES (?, 'product-00042', 'bench', 5, 'Just now', 'Brand new review.',"
                        " 'approved', ?, ?)", (uid, edge.clock.iso(), edge.clock.iso()))
        edge.db.conn.commit()
        os.sync()
        one = timed(lambda: export.publish(edge), 1)[0]
        after = page.read_text()
        assert "Just now" in after and after != before, "the new review is not on the page"
        review_files = len(last_build(work / "output").rendered)
        # the baseline, in the same run: the rebuild after one product's price changed
        victim = content / "products" / "product-00043.md"
        victim.write_text(victim.read_text().replace('price: "', 'price: "1', 1))
        os.sync()
        price = timed(lambda: approval.rebuild(edge), 1)[0]
        price_files = len(last_build(work / "output").rendered)
        noop = timed(lambda: approval.rebuild(edge), 1)[0]
        load = os.getloadavg()[0]
        print(f"\nbuild of {args.products} products with their ratings (through approval.rebuild),"
              f" 1-minute load {load:.1f}:")
        print(f"first publish (export + cold build):             {first:6.2f} s")
        print(f"publish, nothing changed (no write, no build):    {same:6.2f} s")
        print(f"publish after one new review (export + rebuild): {one:6.2f} s, {review_files} files re-rendered"
              f" (target < 3 s)")
        print(f"baseline: rebuild after one price change:         {price:6.2f} s, {price_files} files re-rendered")
        print(f"baseline: rebuild with nothing changed:           {noop:6.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
