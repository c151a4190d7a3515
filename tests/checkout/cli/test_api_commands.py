"""`digitaldock seed --products/--buyers/--orders`, `api openapi|postman` and `webhooks send`
(issue #21), through click's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from checkout.cli.api import api, webhooks
from checkout.cli.edge import seed
from checkout.core.settings import load_settings
from checkout.payments import ledger
from checkout.web.api import OPERATIONS
from checkout.wiring import build_edge

ROOT = Path(__file__).resolve().parents[3]


def run(cmd, args, env):
    return CliRunner().invoke(cmd, args, env=env, catch_exceptions=False)


def test_seed_makes_products_buyers_and_paid_orders_through_the_real_paths(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(tmp_path / "output" / "catalog.json"),
           "CONTENT_DIR": str(tmp_path / "content"), "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8",
           "ARGON2_PARALLELISM": "1"}
    r = run(seed, ["--products", "30", "--buyers", "6", "--orders", "40"], env)
    assert r.exit_code == 0, r.output
    assert "30 products written" in r.stderr and "6 buyers" in r.stderr and "paid orders" in r.stderr
    edge = build_edge(load_settings(environ=env, dotenv=None))
    try:
        products = [p for p in edge.catalog.current().products if p.startswith("seed-")]
        assert len(products) == 30
        # every product file passes the content checks: the real build accepted them all
        assert len(list((tmp_path / "content" / "products").glob("seed-*.md"))) == 30
        paid = edge.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0]
        assert 35 <= paid <= 40
        # each order went through the webhook's path: purchases, a balanced sale journal
        assert edge.db.execute("SELECT COUNT(*) FROM purchases").fetchone()[0] == paid
        assert edge.db.execute("SELECT COUNT(*) FROM ledger_journals WHERE kind = 'sale'").fetchone()[0] == paid
        assert ledger.check(edge.db) == []
        # spread over the past, not all at once
        days = {r[0][:10] for r in edge.db.execute("SELECT paid_at FROM orders")}
        assert len(days) > 5
        # made-up buyers are not mailed
        assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE to_addr LIKE 'seed-buyer-%'").fetchone()[0] == 0
    finally:
        edge.close()


def test_openapi_and_postman_come_from_the_same_operations(tmp_path):
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data")}
    doc = json.loads(run(api, ["openapi", "--server", "https://edge.example"], env).stdout)
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "https://edge.example"}]
    for op in OPERATIONS:
        assert op.method.lower() in doc["paths"][op.path], (op.method, op.path)
    coll = json.loads(run(api, ["postman", "--server", "https://edge.example"], env).stdout)
    assert coll["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert {"key": "baseUrl", "value": "https://edge.example"} in coll["variable"]
    assert coll["auth"]["type"] == "bearer"
    requests = [item["request"] for folder in coll["item"] for item in folder["item"]]
    assert len(requests) == sum(len(methods) for methods in doc["paths"].values())
    made = next(r for r in requests if r["method"] == "POST" and r["url"]["raw"] == "{{baseUrl}}/api/v1/tokens")
    assert json.loads(made["body"]["raw"]) == {"name": "string", "scopes": ["read:account"]}
    sale = next(r for r in requests if r["url"]["raw"] == "{{baseUrl}}/api/v1/sales/:sale_id")
    assert sale["url"]["variable"][0]["key"] == "sale_id"
    assert next(r for r in requests if r["url"]["raw"].endswith("/api/v1/scopes"))["auth"] == {"type": "noauth"}
    # the reviews and discounts of issues #14 and #17 are in both, with their scopes
    for method, path, scope in (("get", "/api/v1/reviews", "read:reviews"), ("post", "/api/v1/reviews", "write:reviews"),
                                ("post", "/api/v1/seller/reviews/{review_id}/reply", "write:reviews"),
                                ("get", "/api/v1/discounts", "read:discounts"),
                                ("post", "/api/v1/discounts/{code_id}/pause", "write:discounts")):
        assert doc["paths"][path][method]["x-scope"] == scope
    assert "202" in doc["paths"]["/api/v1/library/{purchase_id}/links"]["post"]["responses"]
    raws = {(r["method"], r["url"]["raw"]) for r in requests}
    assert {("POST", "{{baseUrl}}/api/v1/discounts"), ("GET", "{{baseUrl}}/api/v1/products/:slug/reviews"),
            ("PATCH", "{{baseUrl}}/api/v1/reviews/:review_id")} <= raws


def test_webhooks_send_sends_what_is_due(tmp_path, catalog_path):
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(catalog_path)}
    r = run(webhooks, ["send"], env)
    assert json.loads(r.stdout) == {"succeeded": 0, "retry": 0, "dead": 0}
