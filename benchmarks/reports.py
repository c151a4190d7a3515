"""Reports benchmark (issue #16): sales reports over a ledger of a million entries must answer in
under 500 ms.

    .venv/bin/python benchmarks/reports.py --entries 1000000

Builds a database with at least N ledger entries (checkout.testing.bulk: paid orders with
their sale journals, Paystack's charge on each, a refund of every tenth, the release of the
others and one payout per seller and currency), then times, best of 5:

- the reports the admin console offers, read from the daily roll-up `ledger_daily` (migration
  0011): by day per currency for the whole range, by week per product, by month per category,
  one seller's dashboard for 30 days, the payouts report and the tie-out against the balances;
- the baseline in the same run: the same day-by-currency report computed from `ledger_entries`
  joined to their journals, as it would be without the roll-up (and its indexes);
- `GET /admin/reports?group=product` for the whole range through a real edge (uvicorn), signed in
  as an admin, CSV included.

Not a test: prints its figures and whether each report stayed under the 500 ms budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkout.accounts import consent, users  # noqa: E402
from checkout.core.settings import load_settings  # noqa: E402
from checkout.payments import ledger, reports  # noqa: E402
from checkout.testing.bulk import add_movements, fill_orders  # noqa: E402
from checkout.wiring import build_edge  # noqa: E402

PASSWORD = "blue-otter-harbour-42"
BUDGET = 0.5
FAST = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
        "OUTBOX_POLL_SECONDS": "0", "RETENTION_INTERVAL_SECONDS": "0", "RECONCILE_INTERVAL_SECONDS": "0",
        "PAYOUT_INTERVAL_SECONDS": "0", "METRICS_SAMPLE_SECONDS": "0", "LOG_LEVEL": "WARNING"}
BASELINE = ("SELECT substr(j.created_at, 1, 10) AS day, e.currency,"
            " SUM(CASE WHEN j.kind = 'sale' AND e.account = 'paystack:receivable' THEN e.amount ELSE 0 END),"
            " SUM(CASE WHEN j.kind = 'refund' AND e.account = 'paystack:receivable' THEN -e.amount ELSE 0 END),"
            " SUM(CASE WHEN e.account = 'platform:fees' THEN -e.amount ELSE 0 END),"
            " SUM(CASE WHEN e.account = 'platform:paystack-costs' THEN e.amount ELSE 0 END),"
            " SUM(CASE WHEN e.account LIKE 'seller:%' AND j.kind IN ('sale', 'refund') THEN -e.amount ELSE 0 END)"
            " FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id"
            " WHERE j.kind IN ('sale', 'refund', 'paystack_fee') AND substr(j.created_at, 1, 10) BETWEEN ? AND ?"
            " GROUP BY day, e.currency")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def best(fn, runs: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def line(name: str, seconds: float, extra: str = "", budget: bool = True) -> None:
    verdict = ("under 500 ms" if seconds < BUDGET else "OVER 500 ms") if budget else "no budget"
    print(f"  {name:52} {seconds * 1000:8.1f} ms  {verdict}{'  ' + extra if extra else ''}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000, help="ledger entries to write (at least)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dd-reports-bench-"))
    env = {**os.environ, **FAST, "DIGITALDOCK_DATA_DIR": str(work), "CATALOG_PATH": str(work / "none.json"),
           "CONTENT_DIR": str(ROOT / "content")}
    edge = build_edge(load_settings(environ=env, dotenv=None))
    edge.migrate()
    start = dt.date(2026, 1, 1)
    t0 = time.perf_counter()
    orders = 0
    while True:  # about seven entries an order, in batches that keep memory flat
        batch = max(1000, min(100_000, (args.entries - count(edge)) // 7 + 1))
        fill_orders(edge.db.conn, batch, start=orders, day=start.isoformat(), days=365)
        add_movements(edge.db.conn, payout_day="2026-12-31")
        orders += batch
        if count(edge) >= args.entries:
            break
    written = time.perf_counter() - t0
    entries = count(edge)
    rolled = edge.db.execute("SELECT COUNT(*) FROM ledger_daily").fetchone()[0]
    users.create_user(edge, "root@example.com", "Root Admin", "admin", edge.hasher.hash(PASSWORD),
                      consent.required_now(edge, "admin"), verified=True, send_verification=False, actor_id=0)
    print(f"database: {orders:,} orders, {entries:,} ledger entries, {rolled:,} roll-up rows "
          f"(written in {written:.1f} s)")
    t0 = time.perf_counter()
    problems = ledger.check(edge.db)
    print(f"ledger check: {time.perf_counter() - t0:.2f} s, {len(problems)} problem(s) (the roll-up equals the entries)")

    year = reports.Range(start, dt.date(2026, 12, 31))
    db = edge.db
    print("reports (best of 5):")
    seconds, found = best(lambda: reports.sales(db, year, "day", "currency"))
    line("a year by day, per currency", seconds, f"{len(found.rows):,} rows")
    seconds, found = best(lambda: reports.sales(db, year, "week", "product", limit=2000))
    line("a year by week, per product (a page of 2,000 rows)", seconds, f"{len(found.rows):,} rows shown")
    seconds, found = best(lambda: reports.sales(db, year, "month", "category"))
    line("a year by month, per category", seconds, f"{len(found.rows):,} rows")
    seconds, found = best(lambda: reports.sales(db, year, "month", "seller"))
    line("a year by month, per seller", seconds, f"{len(found.rows):,} rows")
    month = reports.Range(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    seconds, found = best(lambda: reports.sales(db, month, "day", "currency", seller="ada"))
    line("one seller's 30 days (the dashboard's chart)", seconds, f"{len(found.rows):,} rows")
    seconds, found = best(lambda: reports.sales_csv(reports.sales(db, year, "week", "product")), 3)
    line("export: a year by week per product, as CSV (every row)", seconds, f"{len(found):,} bytes", budget=False)
    seconds, found = best(lambda: reports.payouts(db, year))
    line("payouts of the year", seconds, f"{len(found['rows']):,} payouts")
    seconds, found = best(lambda: reports.tie_out(db), 3)
    line("tie-out against the balances (reads the entries)", seconds, "every figure agrees" if
         all(t["ok"] for t in found) else "DISAGREES", budget=False)
    seconds, found = best(lambda: db.execute(BASELINE, (year.start.isoformat(), year.end.isoformat())).fetchall(), 3)
    line("baseline: a year by day per currency from the entries", seconds, f"{len(found):,} rows", budget=False)
    edge.close()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "edge", "--port", str(port)],
                            env={**env, "CHECKOUT_URL": url}, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=url, timeout=120) as c:
            for _ in range(600):
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            page = c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            c.post("/login", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token,
                                   "next": "/admin"})
            query = f"/admin/reports?from={year.start}&to={year.end}&period=month&group=product"
            print("through the edge (best of 5):")
            seconds, page = best(lambda: c.get(query))
            charts = page.text.count('class="dd-chart"')
            line("GET /admin/reports, a year by month per product", seconds,
                 f"status {page.status_code}, {page.text.count('<tr>'):,} table rows, {charts} charts")
            seconds, page = best(lambda: c.get(f"/admin/reports?from={year.start}&to={year.end}"))
            line("GET /admin/reports, a year by day per currency", seconds, f"status {page.status_code}")
            seconds, page = best(lambda: c.get(query + "&format=csv"))
            line("export: the first as CSV (every row)", seconds, f"status {page.status_code}, "
                 f"{len(page.content):,} bytes", budget=False)
            seconds, page = best(lambda: c.get("/admin/reports/ledger"), 3)
            line("GET /admin/reports/ledger (the tie-out)", seconds,
                 f"status {page.status_code}, {'agrees' if 'edge-bad' not in page.text else 'DISAGREES'}",
                 budget=False)
    finally:
        proc.terminate()
        proc.wait(30)


def count(edge) -> int:
    return int(edge.db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0])


if __name__ == "__main__":
    main()
