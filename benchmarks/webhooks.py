"""Webhook benchmark: the running edge (uvicorn, SQLite with synchronous=FULL) under a stream of
signed `charge.success` events for real pending orders, 30% of them duplicates and some
reordered; then the ledger is checked. In the same run, a baseline: a bare Starlette endpoint
that only checks the HMAC and does three inserts into a SQLite file with synchronous=FULL.

    .venv/bin/python benchmarks/webhooks.py --orders 3000 --concurrency 16

The load generator is `wrk` (Debian package `wrk`) replaying the pre-signed stream through
`benchmarks/replay.lua`, each event exactly once, one connection per wrk thread. Prints events/s
and p50/p95/p99 latency (wrk's distribution) for both, and the ledger's verdict. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import wrkload  # noqa: E402 - next to this file
from wrkload import Request  # noqa: E402

from checkout.core import logs
from checkout.core.db import atomic
from checkout.core.settings import load_settings
from checkout.payments import discounts, ledger
from checkout.payments import orders as order_book
from checkout.wiring import build_edge

SECRET = "sk_test_digitaldock_sandbox"

EDGE_RUNNER = """
import sys, uvicorn
import checkout.core.db as db
_connect = db.connect
def connect(path):
    d = _connect(path)
    d.conn.execute("PRAGMA synchronous=FULL")
    return d
db.connect = connect
from checkout.web.app import create_app
uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""

BASELINE_RUNNER = """
import hashlib, hmac, sqlite3, sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
SECRET = sys.argv[3].encode()
conn = sqlite3.connect(sys.argv[2], isolation_level=None, check_same_thread=False)
conn.execute("PRAGMA journal_mode=WAL"); conn.execute("PRAGMA synchronous=FULL")
conn.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT)")
conn.execute("CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, x TEXT)")
conn.execute("CREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY, x TEXT)")
async def hook(request):
    raw = await request.body()
    sig = hmac.new(SECRET, raw, hashlib.sha512).hexdigest()
    if not hmac.compare_digest(sig, request.headers.get("x-paystack-signature", "")):
        return JSONResponse({}, status_code=401)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO events (body) VALUES (?)", (raw.decode(),))
    conn.execute("INSERT INTO a (x) VALUES ('a')")
    conn.execute("INSERT INTO b (x) VALUES ('b')")
    conn.execute("COMMIT")
    return JSONResponse({"status": "ok"})
uvicorn.run(Starlette(routes=[Route("/webhooks/paystack", hook, methods=["POST"])]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not start")


def prepare(root: Path, count: int, discounted: float = 0.0) -> tuple[dict[str, str], list[dict]]:
    """A catalogue, buyers and N pending orders written through the edge's own code; the share
    `discounted` of them priced with a platform discount code (10% off, or ₦50 off), whose
    fulfilment also counts the use and books the subsidy from `platform:discounts`."""

    products = {f"p{i}": {"title": f"Product {i}", "seller": f"s{i % 7}", "category": "fonts", "price": 50000 + i,
                          "currency": "NGN", "pwyw_minimum": None, "url": f"/products/p{i}/", "files": []}
                for i in range(40)}
    legal = {s: {"title": s, "version": "1.0", "effective": "2026-11-01", "url": f"/legal/{s}/"}
             for s in ("terms", "privacy", "refunds", "seller-agreement", "content-guidelines")}
    (root / "catalog.json").write_text(json.dumps({"build_hash": "bench", "products": products, "sellers": {},
                                                    "categories": [], "legal": legal}))
    env = {"DIGITALDOCK_DATA_DIR": str(root / "data"), "CATALOG_PATH": str(root / "catalog.json"),
           "OUTBOX_POLL_SECONDS": "0", "RECONCILE_INTERVAL_SECONDS": "0", "PAYOUT_INTERVAL_SECONDS": "0",
           "RETENTION_INTERVAL_SECONDS": "0", "LOG_LEVEL": "WARNING"}
    logs.configure("WARNING", "")
    edge = build_edge(load_settings(environ=env, dotenv=None))
    edge.migrate()
    made = []
    with atomic(edge.db):
        for i in range(count):
            edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at, email_verified_at)"
                            " VALUES (?, ?, 'x', 'buyer', ?, ?)", (f"b{i}@example.com", f"B{i}", edge.clock.iso(),
                                                                    edge.clock.iso()))
    discounts.create(edge, "BENCH10", percent="10")
    discounts.create(edge, "BENCH50", amount=5000, currency="NGN")
    users = edge.db.execute("SELECT * FROM users ORDER BY id").fetchall()
    every = round(1 / discounted) if discounted else 0
    for i, user in enumerate(users):
        slugs = [f"p{i % 40}"] + ([f"p{(i + 1) % 40}"] if i % 3 == 0 else [])
        code = ("BENCH10" if (i // every) % 2 else "BENCH50") if every and i % every == 0 else None
        made.append(order_book.create_order(edge, dict(user), [(s, None) for s in slugs], code=code))
    edge.close()
    return env, made


def events_for(orders: list[dict], duplicate_share: float, seed: int = 7) -> list[bytes]:
    rnd = random.Random(seed)
    bodies = []
    for n, o in enumerate(orders):
        data = {"id": 10_000 + n, "status": "success", "reference": o["reference"], "amount": o["amount"],
                "currency": o["currency"], "fees": 100, "paid_at": "2026-11-27T10:00:00.000Z",
                "customer": {"email": o["email"]}}
        bodies.append(json.dumps({"event": "charge.success", "data": data}, separators=(",", ":")).encode())
    stream = list(bodies)
    for _ in range(int(len(bodies) * duplicate_share / (1 - duplicate_share))):
        stream.insert(rnd.randrange(len(stream) + 1), rnd.choice(bodies))  # duplicates, anywhere
    for i in range(0, len(stream) - 8, 50):  # reorder small windows
        window = stream[i:i + 8]
        rnd.shuffle(window)
        stream[i:i + 8] = window
    return stream


def signed_requests(stream: list[bytes]) -> list[Request]:
    """The stream as wrk will replay it: each body pre-signed with the webhook secret."""
    import hashlib
    import hmac

    return [Request("POST", "/webhooks/paystack", body.decode(),
                    {"Content-Type": "application/json",
                     "x-paystack-signature": hmac.new(SECRET.encode(), body, hashlib.sha512).hexdigest()})
            for body in stream]


def drive(url: str, requests: list[Request], concurrency: int, time_limit: int) -> dict:
    return wrkload.run(url, requests, concurrency, time_limit=time_limit)


def report(name: str, r: dict) -> dict:
    row = {"name": name, "events": r["answered"], "per_s": r["rps"], "p50": r["p50_ms"], "p95": r["p95_ms"],
           "p99": r["p99_ms"], "codes": r["statuses"], "complete": r["complete"]}
    print(f"{name:10} {row['events']:6d} events  {row['per_s']:8.0f}/s  p50 {row['p50']:6.1f} ms"
          f"  p95 {row['p95']:6.1f} ms  p99 {row['p99']:6.1f} ms  {r['statuses']}  wrk errors {r['errors']}")
    if not r["complete"]:
        print(f"{name}: only {r['answered']} of {r['expected']} events answered within the time limit")
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=3000)
    ap.add_argument("--duplicates", type=float, default=0.3)
    ap.add_argument("--discounted", type=float, default=0.5, help="share of orders priced with a discount code")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--time-limit", type=int, default=300, help="seconds each phase may take at most")
    ap.add_argument("--profile", help="py-spy the edge while it takes the events, collapsed stacks to this file")
    args = ap.parse_args()
    wrkload.wrk_binary()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:  # the servers may still be closing their WAL
        root = Path(tmp)
        env, orders = prepare(root, args.orders, args.discounted)
        stream = events_for(orders, args.duplicates)
        requests = signed_requests(stream)
        full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}

        port = free_port()
        base = subprocess.Popen([sys.executable, "-c", BASELINE_RUNNER, str(port), str(root / "base.sqlite3"), SECRET],
                                cwd=root, env=full_env)
        try:
            wait(f"http://127.0.0.1:{port}/", base)
            baseline = report("baseline", drive(f"http://127.0.0.1:{port}", requests, args.concurrency,
                                                args.time_limit))
        finally:
            base.terminate()
            base.wait(timeout=10)

        port = free_port()
        edge = subprocess.Popen([sys.executable, "-c", EDGE_RUNNER, str(port)], cwd=root, env=full_env)
        try:
            wait(f"http://127.0.0.1:{port}/healthz", edge)
            with wrkload.Profile(edge.pid, Path(args.profile) if args.profile else None):
                ours = report("edge", drive(f"http://127.0.0.1:{port}", requests, args.concurrency, args.time_limit))
        finally:
            edge.terminate()
            edge.wait(timeout=30)

        e = build_edge(load_settings(environ=env, dotenv=None))
        db = e.db
        paid = db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0]
        sales = db.execute("SELECT COUNT(*) FROM ledger_journals WHERE kind = 'sale'").fetchone()[0]
        events = db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0]
        coded = db.execute("SELECT COUNT(*) FROM orders WHERE discount_code_id IS NOT NULL").fetchone()[0]
        uses = db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0]
        problems = ledger.check(e.db)
        e.close()
        print(f"orders {len(orders)}  stream {len(stream)} (duplicates {len(stream) - len(orders)})  paid {paid}"
              f"  sale journals {sales}  stored events {events}  discounted {coded}, uses counted {uses}"
              f"  ledger check: {'ok' if not problems else problems[:5]}")
        print(f"edge / baseline throughput: {ours['per_s'] / baseline['per_s']:.0%}")
        if ours["codes"].keys() - {200}:
            raise SystemExit(f"the edge refused some events: {ours['codes']}")
        if problems or paid != len(orders) or sales != len(orders) or events != len(orders) or uses != coded:
            raise SystemExit("LOST OR DOUBLED PAYMENTS")


if __name__ == "__main__":
    main()
