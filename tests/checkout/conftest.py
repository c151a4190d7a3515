"""Fixtures for the checkout edge: a catalogue fixture, settings, an app + client factory,
helpers that drive the HTML forms (with their CSRF tokens) and a Resend stand-in."""

from __future__ import annotations

import json
import re
import warnings
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest

from checkout.core.clock import Clock
from checkout.core.settings import load_settings
from checkout.testing.resend_standin import ResendStandIn
from checkout.web.app import create_app

with warnings.catch_warnings():
    # Starlette 1.x warns at import that its TestClient prefers httpx2; httpx is what we pin.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


DOCS = ("terms", "privacy", "refunds", "seller-agreement", "content-guidelines")
PASSWORD = "blue-otter-harbour-42"
FAST = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
        "OUTBOX_POLL_SECONDS": 0, "RETENTION_INTERVAL_SECONDS": 0,
        "CLAMD_DEFAULT_SOCKET": "",  # no system clamd: a test that scans starts its own (tests/conftest.py)
        "METRICS_SAMPLE_SECONDS": 0,  # tests sample the platform metrics when they mean to
        "REVIEWS_EXPORT_SECONDS": 0,  # tests export the review stats when they mean to (tests/checkout/reviews)
        "WEBHOOK_POLL_SECONDS": 0,  # tests send webhook deliveries when they mean to (webhooks.process_due)
        "METRICS_TOKEN": "test-metrics-token"}  # the test client is no loopback address: scrapes send it
METRICS_AUTH = {"Authorization": "Bearer test-metrics-token"}


def scrape(client: "TestClient") -> str:
    """/metrics as Prometheus reads it (with the token the test settings carry)."""
    r = client.get("/metrics", headers=METRICS_AUTH)
    assert r.status_code == 200, r.text
    return r.text


def write_catalog(path: Path, versions: dict[str, str] | None = None) -> None:
    versions = versions or {}
    legal = {s: {"title": s.replace("-", " ").title(), "version": versions.get(s, "1.0"),
                 "effective": "2026-11-01", "url": f"/legal/{s}/"} for s in DOCS}
    data = {"schema_version": 1, "build_hash": "test", "site_url": "http://127.0.0.1:8000", "products": {},
            "sellers": {}, "categories": [{"slug": "fonts", "name": "Fonts"}], "legal": legal}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def bump_catalog(path: Path, versions: dict[str, str]) -> None:
    """Rewrite the catalogue with new versions and make sure its mtime changes."""
    import os
    old = path.stat().st_mtime_ns
    write_catalog(path, versions)
    os.utime(path, ns=(old + 2_000_000_000, old + 2_000_000_000))


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.json"
    write_catalog(path)
    return path


@pytest.fixture
def make_settings(tmp_path: Path, catalog_path: Path):
    def make(**overrides: Any):
        values = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog_path),
                  "CONTENT_DIR": str(tmp_path / "content"), **FAST, **overrides}
        return load_settings(environ={}, dotenv=None, **values)
    return make


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_client(make_settings, clock):
    clients = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(make_settings(**overrides), clock=clock)
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


def edge_of(client: TestClient):
    return client.app.state.edge


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def submit(client: TestClient, page: str, data: dict[str, Any], action: str | None = None):
    """GET a page, then POST its form with the CSRF token, like a browser would."""
    r = client.get(page)
    assert r.status_code == 200, (page, r.status_code)
    return client.post(action or page.split("?")[0], data={"csrf_token": csrf_from(r.text), **data})


def register(client: TestClient, email: str = "ann@example.com", password: str = PASSWORD,
             role: str = "buyer", accept: tuple[str, ...] | None = None, name: str = "Ann Buyer"):
    if accept is None:
        accept = DOCS if role == "seller" else ("terms", "privacy")
    return submit(client, "/register", {"email": email, "display_name": name, "password": password,
                                        "role": role, "accept": list(accept)})


def login(client: TestClient, email: str = "ann@example.com", password: str = PASSWORD, next_: str = "/account"):
    return submit(client, "/login", {"email": email, "password": password, "next": next_})


def outbox_rows(client: TestClient, template: str | None = None) -> list[dict]:
    edge = edge_of(client)
    sql, args = "SELECT * FROM outbox", ()
    if template:
        sql, args = sql + " WHERE template = ?", (template,)
    return [dict(r) for r in edge.db.execute(sql + " ORDER BY id", args).fetchall()]


def link_from(row: dict, path: str) -> str:
    m = re.search(re.escape(path) + r"\?token=[A-Za-z0-9._\-]+", row["text_body"])
    assert m, row["text_body"]
    return m.group(0)


def read_eml(path: Path):
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


@pytest.fixture
def signed_in(client) -> TestClient:
    register(client)
    verify = link_from(outbox_rows(client, "verify")[0], "/verify")
    client.get(verify)
    r = login(client)
    assert r.status_code == 303
    return client


@pytest.fixture
def resend():
    s = ResendStandIn("re_test").start()
    yield s
    s.stop()
