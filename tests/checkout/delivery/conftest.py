"""Fixtures for delivery and uploads: a catalogue with product files in content/storage,
purchases written with plain SQL following issue #6's contract (so these tests do not depend
on the payments code), users signed in through the real login form."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from checkout.accounts import users
from checkout.core.context import Edge
from digitaldock.schema import storage_key

PASSWORD = "blue-otter-harbour-42"
DOCS = ("terms", "privacy", "refunds", "seller-agreement", "content-guidelines")
PDF = b"%PDF-1.4\n" + b"1 0 obj<<>>endobj\n" * 2000 + b"%%EOF\n"
ZIP = b"PK\x05\x06" + b"\0" * 18

# The contract with issue #6 (purchases); used only when 0002_payments.sql is not in the tree.
CONTRACT = """
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, reference TEXT NOT NULL UNIQUE,
  user_id INTEGER NOT NULL REFERENCES users(id), email TEXT NOT NULL, currency TEXT NOT NULL,
  amount INTEGER NOT NULL, status TEXT NOT NULL, catalog_hash TEXT NOT NULL, created_at TEXT NOT NULL, paid_at TEXT);
CREATE TABLE IF NOT EXISTS order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id),
  product_slug TEXT NOT NULL, seller TEXT NOT NULL, title TEXT NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS purchases (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  order_id INTEGER NOT NULL REFERENCES orders(id), order_line_id INTEGER NOT NULL REFERENCES order_lines(id),
  product_slug TEXT NOT NULL, seller TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('active','refunded','revoked')), created_at TEXT NOT NULL, refunded_at TEXT);
"""


def file_entry(name: str, data: bytes) -> dict[str, Any]:
    sha = hashlib.sha256(data).hexdigest()
    return {"name": name, "size": len(data), "sha256": sha, "key": storage_key(sha)}


class Shop:
    """A catalogue (catalog.json + content/storage) and helpers to buy, sign in and download."""

    def __init__(self, base: Path, catalog_path: Path):
        self.base = base
        self.catalog_path = catalog_path
        self.content = base / "content"
        self.products: dict[str, dict] = {}
        self.data: dict[str, bytes] = {}
        self.add_product("budget-planner", [("planner.pdf", PDF)])
        self.add_product("font-pack", [("fonts.zip", ZIP + b"fonts"), ("specimen.pdf", PDF + b"2")])

    def store(self, data: bytes) -> dict:
        entry = file_entry("x", data)
        p = self.content / "storage" / entry["key"]
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        self.data[entry["sha256"]] = data
        return entry

    def add_product(self, slug: str, files: list[tuple[str, bytes]], version: str = "1.0",
                    seller: str = "ada", write: bool = True) -> dict:
        entries = [{**self.store(data), "name": name} for name, data in files]
        self.products[slug] = {"title": slug.replace("-", " ").title(), "seller": seller, "category": "fonts",
                               "price": 1250, "currency": "USD", "pwyw_minimum": None, "version": version,
                               "license": "Personal use", "url": f"/products/{slug}/", "cover": "/images/x.png",
                               "files": entries}
        if write:
            self.write()
        return self.products[slug]

    def write(self) -> None:
        data = json.loads(self.catalog_path.read_text())
        data["products"] = self.products
        data["sellers"] = {"ada": {"name": "Ada Obi", "payout_currency": "USD", "url": "/sellers/ada/"}}
        old = self.catalog_path.stat().st_mtime_ns
        tmp = self.catalog_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.catalog_path)
        import os
        os.utime(self.catalog_path, ns=(old + 2_000_000_000, old + 2_000_000_000))


def ensure_purchases(edge: Edge) -> None:
    if not edge.db["purchases"].exists():
        edge.db.conn.executescript(CONTRACT)


def _insert(edge: Edge, table: str, values: dict[str, Any]) -> int:
    """Insert following the contract, filling any extra NOT NULL column #6 added with a neutral value."""
    cols = edge.db.execute(f"PRAGMA table_info({table})").fetchall()
    row = dict(values)
    for c in cols:
        if c["name"] not in row and c["notnull"] and c["dflt_value"] is None and not c["pk"]:
            row[c["name"]] = edge.clock.iso() if c["name"].endswith("_at") else (
                0 if "INT" in (c["type"] or "").upper() else "")
    if table == "order_lines" and "net" in {c["name"] for c in cols}:
        row.update(fee_bps=0, fee=0, net=values["amount"])
    names = ", ".join(row)
    cur = edge.db.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
    return int(cur.lastrowid)


_refs = iter(range(1, 1_000_000))


def buy(edge: Edge, user_id: int, slug: str, status: str = "active", seller: str = "ada") -> int:
    """A paid order with one line and its purchase; returns the purchase id."""
    ensure_purchases(edge)
    email = edge.db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    now = edge.clock.iso()
    order = _insert(edge, "orders", {"reference": f"DD-T{next(_refs)}-{user_id}", "user_id": user_id, "email": email,
                                     "currency": "USD", "amount": 1250, "status": "paid", "catalog_hash": "test",
                                     "created_at": now, "paid_at": now})
    line = _insert(edge, "order_lines", {"order_id": order, "product_slug": slug, "seller": seller,
                                         "title": slug.title(), "amount": 1250, "currency": "USD"})
    return _insert(edge, "purchases", {"user_id": user_id, "order_id": order, "order_line_id": line,
                                       "product_slug": slug, "seller": seller, "status": status,
                                       "created_at": now})


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def make_user(client, email: str, role: str = "buyer", name: str = "Ann Buyer") -> int:
    """A verified account, created directly, then signed in through the login form."""

    edge = client.app.state.edge
    state = edge.legal()
    docs = [state.legal[s] for s in (DOCS if role == "seller" else ("terms", "privacy"))]
    uid = users.create_user(edge, email, name, role, edge.hasher.hash(PASSWORD), docs, verified=True,
                               send_verification=False, actor_id=0)
    sign_in(client, email)
    return uid


def sign_in(client, email: str) -> None:
    client.cookies.clear()
    r = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_from(r.text), "email": email, "password": PASSWORD,
                                    "next": "/account"})
    assert r.status_code == 303, r.text


def link_for(client, purchase_id: int, sha256: str) -> str:
    """Mint a link the way the library's Download button does; returns /download/<token>."""
    r = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": csrf_from(r.text), "purchase_id": str(purchase_id),
                                           "sha256": sha256})
    assert r.status_code == 303, r.text
    return r.headers["location"]


@pytest.fixture
def shop(tmp_path: Path, catalog_path: Path) -> Shop:
    return Shop(tmp_path, catalog_path)


@pytest.fixture
def helpers():
    class H:
        pass
    h = H()
    for f in (buy, make_user, sign_in, link_for, csrf_from, file_entry, ensure_purchases):
        setattr(h, f.__name__, staticmethod(f))
    h.PDF, h.ZIP, h.PASSWORD = PDF, ZIP, PASSWORD
    return h


# --- real backends on loopback: moto's S3 server and clamd with the EICAR test database --------



@pytest.fixture(scope="session")
def moto_url(moto_endpoint):
    """The session's real S3 endpoint on loopback (moto's server, from tests/conftest.py)."""
    return moto_endpoint


@pytest.fixture
def s3_bucket(moto_url, monkeypatch):
    """A fresh bucket; AWS_* variables point boto3 at moto."""
    import uuid

    from digitaldock.storage import s3_client
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    name = f"dd-{uuid.uuid4().hex[:12]}"
    s3_client(moto_url).create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def clamd_socket(clamd):
    """The session's real clamd (tests/conftest.py), by its unix socket."""
    return clamd["CLAMD_SOCKET"]


@pytest.fixture
def seller(make_client, shop, helpers, tmp_path):
    """make(**settings) → a TestClient signed in as the seller sam@example.com (an admin exists)."""
    (tmp_path / "content").mkdir(exist_ok=True)
    (tmp_path / "content" / "categories.yml").write_text("- slug: fonts\n  name: Fonts\n- slug: templates\n  name: Templates\n")
    (tmp_path / "content" / "sellers").mkdir(exist_ok=True)

    def make(**settings: Any):
        client = make_client(**settings)
        helpers.make_user(client, "admin@example.com", role="admin", name="Ada Admin")
        helpers.make_user(client, "sam@example.com", role="seller", name="Sam Seller")
        return client
    return make
