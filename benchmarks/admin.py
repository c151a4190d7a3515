"""Admin benchmark: the ledger check and the admin orders page over a large database, and how
long /healthz waits meanwhile (it must not: the check runs off the event loop).

    .venv/bin/python benchmarks/admin.py --orders 100000

Builds a database of N paid orders (checkout.testing.bulk: users, orders, lines, purchases,
balanced sale journals), then: `ledger.check` in this process; a real edge (uvicorn) on that
database, an admin signed in, `GET /admin/orders` timed while /healthz is probed every 20 ms,
with the probe's worst and median latency. Not a test; prints its figures.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkout.accounts import consent, users  # noqa: E402
from checkout.core.settings import load_settings  # noqa: E402
from checkout.payments import ledger  # noqa: E402
from checkout.testing.bulk import fill_orders  # noqa: E402
from checkout.wiring import build_edge  # noqa: E402

PASSWORD = "blue-otter-harbour-42"
FAST = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
        "OUTBOX_POLL_SECONDS": "0", "RETENTION_INTERVAL_SECONDS": "0", "RECONCILE_INTERVAL_SECONDS": "0",
        "PAYOUT_INTERVAL_SECONDS": "0", "LOG_LEVEL": "WARNING"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dd-admin-bench-"))
    env = {**os.environ, **FAST, "DIGITALDOCK_DATA_DIR": str(work), "CATALOG_PATH": str(work / "none.json"),
           "CONTENT_DIR": str(ROOT / "content")}
    settings = load_settings(environ=env, dotenv=None)
    edge = build_edge(settings)
    edge.migrate()
    started = time.perf_counter()
    fill_orders(edge.db.conn, args.orders)
    filled = time.perf_counter() - started
    users.create_user(edge, "root@example.com", "Root Admin", "admin", edge.hasher.hash(PASSWORD),
                      consent.required_now(edge, "admin"), verified=True, send_verification=False, actor_id=0)
    entries = edge.db.execute("SELECT COUNT(*) FROM ledger_entries").fetchone()[0]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        problems = ledger.check(edge.db)
        times.append(time.perf_counter() - started)
    edge.close()
    print(f"database: {args.orders:,} orders, {entries:,} ledger entries (written in {filled:.1f} s)")
    print(f"ledger.check: {min(times):.2f} s best of 3 ({', '.join(f'{t:.2f}' for t in times)}), "
          f"{len(problems)} problem(s)")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "edge", "--port", str(port)],
                            env={**env, "CHECKOUT_URL": url}, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=url, timeout=120) as c:
            for _ in range(300):
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            page = c.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            c.post("/login", data={"email": "root@example.com", "password": PASSWORD, "csrf_token": token,
                                   "next": "/admin"})
            probes: list[float] = []
            done = threading.Event()

            def probe() -> None:
                with httpx.Client(base_url=url, timeout=30) as p:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        p.get("/healthz")
                        probes.append(time.perf_counter() - t0)
                        time.sleep(0.02)

            prober = threading.Thread(target=probe)
            prober.start()
            t0 = time.perf_counter()
            page = c.get("/admin/orders")
            page_time = time.perf_counter() - t0
            done.set()
            prober.join()
        print(f"GET /admin/orders: {page_time:.2f} s (status {page.status_code}, "
              f"{'ledger ok' if 'Every ledger invariant holds.' in page.text else 'ledger NOT ok'})")
        print(f"/healthz during it: {len(probes)} probes, median {statistics.median(probes) * 1000:.1f} ms, "
              f"worst {max(probes) * 1000:.1f} ms")
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
