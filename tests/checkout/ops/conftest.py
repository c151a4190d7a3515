"""Fixtures for operations tests: an environment-configured edge in a temp folder, a fresh bucket
on moto's S3 server (`moto_endpoint` from tests/conftest.py), and a helper that writes the rows a
drill must find."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from checkout.core import audit
from checkout.core.clock import Clock
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.settings import load_settings
from checkout.wiring import build_edge

DOCS = ("terms", "privacy", "refunds", "seller-agreement", "content-guidelines")
FAST = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
        "OUTBOX_POLL_SECONDS": "0", "RETENTION_INTERVAL_SECONDS": "0", "PAYOUT_INTERVAL_SECONDS": "0",
        "RECONCILE_INTERVAL_SECONDS": "0"}


def write_catalog(path: Path) -> None:
    legal = {s: {"title": s.title(), "version": "1.0", "effective": "2026-11-01", "url": f"/legal/{s}/"} for s in DOCS}
    path.write_text(json.dumps({"schema_version": 1, "build_hash": "test", "site_url": "http://127.0.0.1:8000",
                                "products": {}, "sellers": {}, "categories": [], "legal": legal}))


@pytest.fixture
def ops_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings through the environment, as the CLI and a drill's edge subprocess read them."""
    catalog = tmp_path / "site" / "catalog.json"
    catalog.parent.mkdir()
    write_catalog(catalog)
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog),
           "CONTENT_DIR": str(tmp_path / "content"), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", **FAST}
    for k in ("DATABASE_PATH", "BACKUP_S3_BUCKET", "BACKUP_S3_ENDPOINT_URL", "BACKUP_DIR", "AWS_SESSION_TOKEN",
              "AWS_PROFILE", "DIGITALDOCK_ENV", "SENTRY_DSN", "LOG_FILE"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    return env


@pytest.fixture
def s3_env(ops_env: dict[str, str], moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """ops_env plus a fresh bucket on moto as the backup bucket."""
    from digitaldock.storage import s3_client

    bucket = f"dd-backup-{uuid.uuid4().hex[:10]}"
    s3_client(moto_endpoint, env=ops_env).create_bucket(Bucket=bucket)
    monkeypatch.setenv("BACKUP_S3_BUCKET", bucket)
    monkeypatch.setenv("BACKUP_S3_ENDPOINT_URL", moto_endpoint)
    return {**ops_env, "BACKUP_S3_BUCKET": bucket, "BACKUP_S3_ENDPOINT_URL": moto_endpoint}


@pytest.fixture
def make_edge():
    edges: list[Edge] = []

    def make(clock: Clock | None = None, **overrides: Any) -> Edge:
        settings = load_settings(dotenv=None, **overrides)
        e = build_edge(settings, clock or Clock())
        e.migrate()
        edges.append(e)
        return e

    yield make
    for e in edges:
        e.close()


@pytest.fixture
def populate():
    """Write users, consents, audit rows and (when issue #6's tables exist) orders and ledger entries."""

    def write(edge: Edge, n: int, start: int = 0) -> dict[str, list]:
        made: dict[str, list] = {"users": [], "orders": [], "ledger_entries": []}
        tables = set(edge.db.table_names())
        for i in range(start, start + n):
            now = edge.clock.iso()
            with atomic(edge.db):
                uid = edge.db.execute(
                    "INSERT INTO users (email, display_name, password_hash, role, created_at) VALUES (?,?,?,?,?)",
                    (f"user{i}@example.com", f"User {i}", "x", "buyer", now)).lastrowid
                edge.db.execute("INSERT INTO consents (user_id, document, version, accepted_at, ip) VALUES (?,?,?,?,?)",
                                (uid, "terms", "1.0", now, "127.0.0.1"))
                audit.record(edge, "user.registered", subject_id=uid)
                made["users"].append(f"user{i}@example.com")
                if {"orders", "ledger_journals", "ledger_entries"} <= tables:
                    oid = edge.db.execute(
                        "INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash,"
                        " created_at, paid_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (f"DD-{i}", uid, f"user{i}@example.com", "NGN", 1000 + i, "paid", "h", now, now, now)).lastrowid
                    amount = 1000 + i
                    fee = (amount * 1000 + 5000) // 10000
                    lid = edge.db.execute(
                        "INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency, fee_bps,"
                        " fee, net) VALUES (?, 'font', 's', 'Font', ?, 'NGN', 1000, ?, ?)",
                        (oid, amount, fee, amount - fee)).lastrowid
                    edge.db.execute("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller,"
                                    " status, created_at) VALUES (?, ?, ?, 'font', 's', 'active', ?)", (uid, oid, lid, now))
                    jid = edge.db.execute("INSERT INTO ledger_journals (kind, order_id, memo, created_at)"
                                          " VALUES ('sale', ?, 'test', ?)", (oid, now)).lastrowid
                    for account, value in (("paystack:receivable", amount), ("platform:fees", -fee),
                                           ("seller:s:pending", fee - amount)):
                        eid = edge.db.execute("INSERT INTO ledger_entries (journal_id, account, currency, amount)"
                                              " VALUES (?,?,?,?)", (jid, account, "NGN", value)).lastrowid
                        made["ledger_entries"].append(eid)
                    edge.db.execute("UPDATE ledger_journals SET posted = 1 WHERE id = ?", (jid,))
                    made["orders"].append(f"DD-{i}")
        return made

    return write


def env_for_subprocess() -> dict[str, str]:
    return dict(os.environ)
