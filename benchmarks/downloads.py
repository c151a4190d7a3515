"""Download benchmark: link minting and the download redirect against the running edge, beside a
bare baseline in the same run; and the edge's RSS while a 500 MB upload streams in.

    .venv/bin/python benchmarks/downloads.py [--requests 3000] [--concurrency 32] [--upload-mb 500]

1. Starts the real edge (`digitaldock edge`, uvicorn, one worker) on a temp data folder with
   STORAGE_BACKEND=s3 on a moto server (presigning itself is local computation) and limits
   raised out of the way, and signs in `--buyers` buyers (100) who own one purchase each; the
   requests take turns over them, each with its own session cookie.
2. **mint**: `POST /library/link` (JSON) N times: the edge checks the purchase and the file and
   signs a token.
3. **redirect**: `GET /download/<token>` once per link (N tokens pre-minted with the edge's own
   `links.mint` and key, so this phase measures redeeming only): signature, ownership, counts,
   the per-hour window, one durable `downloads` row (SQLite WAL, synchronous=NORMAL) and a 302
   to a presigned URL. Afterwards the benchmark checks that every download was recorded.
4. **baseline**: a bare Starlette app under the same uvicorn: itsdangerous check + one SELECT +
   302, no middleware.
5. **upload**: a seller streams one file of `--upload-mb` MB to `POST /seller/products` while
   the edge's RSS is sampled from /proc every 20 ms; the file's limit is raised above its size,
   so the run measures a full, accepted upload: spooled and hashed, type-checked, then sent to
   the bucket with boto3's multipart upload.

The load generator is `wrk` (Debian package `wrk`) replaying pre-generated requests through
`benchmarks/replay.lua`, each exactly once, one connection per wrk thread, with the buyer's
session cookie (and, for minting, the CSRF token) the edge requires; req/s and p50/p95/p99
come from wrk's latency distribution.

Nothing here is a test: numbers depend on the machine (see benchmarks/README.md for ours).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import wrkload  # noqa: E402 - next to this file
from wrkload import Request  # noqa: E402

from checkout.accounts import users
from checkout.core.settings import load_settings
from checkout.delivery import links
from checkout.wiring import build_edge

PASSWORD = "blue-otter-harbour-42"
PDF = b"%PDF-1.4\n" + b"1 0 obj<<>>endobj\n" * 100 + b"%%EOF\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup(tmp: Path) -> dict[str, str]:
    import hashlib

    from digitaldock.schema import LEGAL_DOCUMENTS, storage_key

    sha = hashlib.sha256(PDF).hexdigest()
    catalog = {"schema_version": 1, "build_hash": "bench", "site_url": "http://127.0.0.1:8000",
               "categories": [{"slug": "fonts", "name": "Fonts"}],
               "sellers": {"ada": {"name": "Ada", "payout_currency": "USD", "url": "/sellers/ada/"}},
               "products": {"bench-pack": {"title": "Bench Pack", "seller": "ada", "category": "fonts", "price": 1000,
                                           "currency": "USD", "pwyw_minimum": None, "version": "1.0",
                                           "license": "Personal", "url": "/products/bench-pack/", "cover": "/x.png",
                                           "files": [{"name": "bench.pdf", "size": len(PDF), "sha256": sha,
                                                      "key": storage_key(sha)}]}},
               "legal": {s: {"title": s.title(), "version": "1.0", "effective": "2026-01-01", "url": f"/legal/{s}/"}
                         for s in LEGAL_DOCUMENTS}}
    (tmp / "catalog.json").write_text(json.dumps(catalog))
    (tmp / "content").mkdir()
    (tmp / "content" / "categories.yml").write_text("- slug: fonts\n  name: Fonts\n")
    return {"DIGITALDOCK_DATA_DIR": str(tmp / "data"), "CATALOG_PATH": str(tmp / "catalog.json"),
            "CONTENT_DIR": str(tmp / "content"), "SECRET_KEY": "bench-secret-key-" + "x" * 32,
            "STORAGE_BACKEND": "s3", "S3_BUCKET": "bench-bucket",
            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "DOWNLOADS_PER_FILE": "100000000", "DOWNLOADS_PER_HOUR": "100000000", "LOG_LEVEL": "WARNING",
            "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
            "OUTBOX_POLL_SECONDS": "0", "RETENTION_INTERVAL_SECONDS": "0",
            "UPLOAD_MAX_FILE_BYTES": str(600 * 1024 * 1024)}


def seed(env: dict[str, str], buyers: int) -> list[tuple[str, int, int]]:
    """A seller and `buyers` buyers with one paid purchase each, written with the edge's own
    library code; (email, user id, purchase id) per buyer."""

    edge = build_edge(load_settings(environ=env, dotenv=None))
    edge.migrate()
    state = edge.legal()
    people = [("seller@example.com", "seller")] + [(f"buyer{i}@example.com", "buyer") for i in range(buyers)]
    for email, role in people:
        docs = list(state.legal.values()) if role == "seller" else [state.legal["terms"], state.legal["privacy"]]
        users.create_user(edge, email, role.title(), role, edge.hasher.hash(PASSWORD), docs, verified=True,
                             send_verification=False, actor_id=0)
    now = edge.clock.iso()
    db = edge.db
    cols = lambda t: {r["name"]: r for r in db.execute(f"PRAGMA table_info({t})")}  # noqa: E731

    def insert(table: str, row: dict) -> int:
        for name, c in cols(table).items():
            if name not in row and c["notnull"] and c["dflt_value"] is None and not c["pk"]:
                row[name] = now if name.endswith("_at") else (0 if "INT" in (c["type"] or "").upper() else "")
        if table == "order_lines" and "net" in cols(table):
            row.update(fee_bps=0, fee=0, net=row["amount"])
        return int(db.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              tuple(row.values())).lastrowid)

    out = []
    for n, (email, _) in enumerate(people[1:]):
        uid = edge.db.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()[0]
        order = insert("orders", {"reference": f"BENCH-{n}", "user_id": uid, "email": email, "currency": "USD",
                                  "amount": 1000, "status": "paid", "catalog_hash": "bench", "created_at": now,
                                  "paid_at": now})
        line = insert("order_lines", {"order_id": order, "product_slug": "bench-pack", "seller": "ada",
                                      "title": "Bench", "amount": 1000, "currency": "USD"})
        out.append((email, uid, insert("purchases", {"user_id": uid, "order_id": order, "order_line_id": line,
                                                     "product_slug": "bench-pack", "seller": "ada", "status": "active",
                                                     "created_at": now})))
    edge.close()
    return out


def login(base: str, email: str):
    import httpx

    client = httpx.Client(base_url=base, timeout=600)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"csrf_token": token, "email": email, "password": PASSWORD, "next": "/account"})
    assert r.status_code == 303, r.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)
    return client, csrf


def cookie_header(client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def premint(env: dict[str, str], owners: list[tuple[int, int]], sha: str) -> list[str]:
    """A fresh link token per (user id, purchase id), signed by the edge's own code and key, as
    `POST /library/link` would."""

    edge = build_edge(load_settings(environ=env, dotenv=None))
    try:
        return [links.mint(edge, user_id, purchase_id, sha) for user_id, purchase_id in owners]
    finally:
        edge.close()


def report(name: str, r: dict) -> dict:
    row = {"name": name, "requests": r["answered"], "rps": r["rps"], "p50_ms": r["p50_ms"], "p95_ms": r["p95_ms"],
           "p99_ms": r["p99_ms"], "statuses": r["statuses"], "errors": r["errors"], "complete": r["complete"]}
    print(f"{name:10} {row['requests']:6d} req  {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.1f} ms  "
          f"p95 {row['p95_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  statuses {r['statuses']}  wrk errors {r['errors']}")
    if not r["complete"]:
        print(f"{name}: only {r['answered']} of {r['expected']} requests answered within the time limit")
    return row


BASELINE = '''
import sqlite3, sys
from itsdangerous import URLSafeTimedSerializer, BadSignature
from starlette.applications import Starlette
from starlette.responses import RedirectResponse, PlainTextResponse
from starlette.routing import Route
ser = URLSafeTimedSerializer("bench-secret", salt="baseline")
db = sqlite3.connect(sys.argv[2], check_same_thread=False)
async def download(request):
    try:
        data = ser.loads(request.path_params["token"], max_age=86400)
    except BadSignature:
        return PlainTextResponse("bad", 400)
    row = db.execute("SELECT status FROM purchases WHERE id = ?", (data["p"],)).fetchone()
    if row is None or row[0] != "active":
        return PlainTextResponse("no", 403)
    return RedirectResponse("https://example.invalid/file?sig=x", 302)
app = Starlette(routes=[Route("/download/{token}", download)])
if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
'''


def upload_rss(base: str, pid: int, mb: int) -> dict:

    client, csrf = login(base, "seller@example.com")
    boundary = "benchBOUNDARY"
    fields = {"title": "Big Bundle", "slug": "big-bundle", "category": "fonts", "price": "10.00", "currency": "USD",
              "summary": "A very large bundle for the upload benchmark.", "license": "Personal", "version": "1.0",
              "description": "A very large bundle used to measure memory while uploading."}
    head = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items())
    png = b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image
    buf = BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    png = buf.getvalue()
    cover = (f'--{boundary}\r\nContent-Disposition: form-data; name="cover"; filename="cover.png"\r\n'
             f"Content-Type: image/png\r\n\r\n").encode() + png + b"\r\n"
    file_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.zip"\r\n'
                 "Content-Type: application/zip\r\n\r\n").encode()
    size = mb * 1024 * 1024

    def body():
        yield head.encode() + cover + file_head + b"PK\x03\x04"
        chunk = b"\0" * (1024 * 1024)
        left = size - 4
        while left > 0:
            yield chunk[:min(left, len(chunk))]
            left -= len(chunk)
        yield f"\r\n--{boundary}--\r\n".encode()

    peak = [rss_mb(pid)]
    before = peak[0]
    stop = threading.Event()

    timeline: list[tuple[float, float]] = []

    def sample() -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            peak.append(rss_mb(pid))
            timeline.append((time.perf_counter() - t0, peak[-1]))
            time.sleep(0.02)

    t = threading.Thread(target=sample)
    t.start()
    start = time.perf_counter()
    r = client.post("/seller/products", content=body(), headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-CSRF-Token": csrf, "Accept": "application/json"})
    wall = time.perf_counter() - start
    stop.set()
    t.join()
    print(f"upload     {mb} MB in {wall:.1f} s ({mb / wall:.0f} MB/s) -> {r.status_code}; edge RSS before "
          f"{before:.0f} MB, peak {max(peak):.0f} MB")
    if os.environ.get("BENCH_TIMELINE"):
        print(" ".join(f"{t:.1f}s:{m:.0f}" for t, m in timeline[::25]))
    return {"mb": mb, "seconds": wall, "status": r.status_code, "rss_before": before, "rss_peak": max(peak)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--buyers", type=int, default=100, help="buyers (one session and purchase each) sharing the load")
    ap.add_argument("--upload-mb", type=int, default=500)
    ap.add_argument("--time-limit", type=int, default=300, help="seconds each phase may take at most")
    ap.add_argument("--profile", help="py-spy the edge during the redirect phase, collapsed stacks to this file")
    args = ap.parse_args()
    wrkload.wrk_binary()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = setup(tmp)
        mport = free_port()
        moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(mport)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(mport, moto)
        env["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{mport}"
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
        from digitaldock.storage import s3_client
        s3_client(env["S3_ENDPOINT_URL"]).create_bucket(Bucket="bench-bucket")
        people = seed(env, args.buyers)
        port, bport = free_port(), free_port()
        edge = subprocess.Popen([sys.executable, "-m", "checkout.cli.main", "edge", "--port", str(port)],
                                env={**os.environ, **env}, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        (tmp / "baseline.py").write_text(BASELINE)
        base_proc = subprocess.Popen([sys.executable, str(tmp / "baseline.py"), str(bport),
                                      str(tmp / "data" / "edge.sqlite3")], cwd=tmp)
        try:
            wait_port(port, edge)
            wait_port(bport, base_proc)
            base = f"http://127.0.0.1:{port}"
            sessions = []  # per buyer: Cookie header, CSRF token, user id, purchase id
            for email, uid, pid_ in people:
                client, csrf = login(base, email)
                sessions.append((cookie_header(client), csrf, uid, pid_))
                client.close()
            import sqlite3
            db = sqlite3.connect(tmp / "data" / "edge.sqlite3")
            sha = json.loads((tmp / "catalog.json").read_text())["products"]["bench-pack"]["files"][0]["sha256"]
            turns = [sessions[i % len(sessions)] for i in range(args.requests)]
            mints = [Request("POST", "/library/link",
                             urlencode({"csrf_token": csrf, "purchase_id": str(pid_), "sha256": sha}),
                             {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                              "X-CSRF-Token": csrf, "Cookie": cookie})
                     for cookie, csrf, _, pid_ in turns]
            rows = [report("mint", wrkload.run(base, mints, args.concurrency, None, args.time_limit))]
            tokens = premint(env, [(uid, pid_) for _, _, uid, pid_ in turns], sha)
            with wrkload.Profile(edge.pid, Path(args.profile) if args.profile else None):
                rows.append(report("redirect", wrkload.run(
                    base, [Request("GET", f"/download/{t}", "", {"Cookie": turn[0]}) for t, turn in zip(tokens, turns)],
                    args.concurrency, None, args.time_limit)))
            recorded = db.execute("SELECT COUNT(*) FROM downloads WHERE outcome = 'started'").fetchone()[0]
            print(f"recorded   {recorded} started downloads for {len(tokens)} redirects")
            from itsdangerous import URLSafeTimedSerializer
            ser = URLSafeTimedSerializer("bench-secret", salt="baseline")
            btokens = [ser.dumps({"p": turn[3], "j": i}) for i, turn in enumerate(turns)]
            rows.append(report("baseline", wrkload.run(f"http://127.0.0.1:{bport}",
                                                       [Request("GET", f"/download/{t}") for t in btokens],
                                                       args.concurrency, None, args.time_limit)))
            failed = [r["name"] for r in rows
                      if set(r["statuses"]) - {200, 302} or not r["complete"] or any(r["errors"].values())]
            up = upload_rss(base, edge.pid, args.upload_mb) if args.upload_mb else None
            print(json.dumps({"rows": rows, "recorded": recorded, "upload": up}))
            if recorded != len(tokens):
                raise SystemExit(f"only {recorded} of {len(tokens)} redirects were recorded")
            if failed:
                raise SystemExit(f"refused or unanswered requests in: {', '.join(failed)}")
        finally:
            for p in (edge, base_proc, moto):
                p.terminate()
                p.wait(30)


if __name__ == "__main__":
    main()
