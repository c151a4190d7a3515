"""The public API (issue #21): personal access tokens with scopes, a seller's sales through the
API, ownership on every route, cursor pagination, filters, ETags and idempotency keys."""

from __future__ import annotations

import re
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.web.api import OPERATIONS

from .consoles import PASSWORD, build_site, link, make_account, sell


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("built"))


@pytest.fixture
def shop(make_client, built, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built, site)
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                         REBUILD_ON_APPROVAL=False, WEBHOOK_ALLOW_PRIVATE=True)
    edge = client.app.state.edge
    seller = make_account(edge, "ade@example.com", "seller", "Ade Foundry")
    buyer = make_account(edge, "bea@example.com", "buyer", "Bea Buyer")
    link(edge, seller)
    return client, edge, seller, dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (buyer,)).fetchone())


def jwt(client, email: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"grant_type": "password", "email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def personal_token(client, email: str, scopes: list[str], name: str = "script") -> dict[str, str]:
    r = client.post("/api/v1/tokens", json={"name": name, "scopes": scopes}, headers=jwt(client, email))
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_seller_token_with_read_sales_lists_sales_and_cannot_write(shop):
    client, edge, seller, buyer = shop
    first_party = jwt(client, "ade@example.com")
    made = client.post("/api/v1/tokens", json={"name": "accounting sync", "scopes": ["read:sales"]},
                       headers=first_party)
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert token.startswith("ddp_") and made.json()["scopes"] == ["read:sales"]
    # shown once: stored hashed, never listed again
    listed = client.get("/api/v1/tokens", headers=first_party).json()["data"]
    assert [t["name"] for t in listed] == ["accounting sync"] and "token" not in listed[0]
    assert token.split("_")[-1] not in str(list(edge.db.execute("SELECT * FROM personal_tokens")))
    assert listed[0]["last_used_at"] is None

    order = sell(client, buyer, "lagos-grotesk")
    auth = {"Authorization": f"Bearer {token}"}
    sales = client.get("/api/v1/sales", headers=auth)
    assert sales.status_code == 200, sales.text
    [sale] = sales.json()["data"]
    assert sale["order_reference"] == order["reference"] and sale["product_slug"] == "lagos-grotesk"
    assert sale["price"]["amount"] == order["amount"] and sale["price"]["currency"] == order["currency"]
    assert sale["fee"]["amount"] + sale["net"]["amount"] == sale["price"]["amount"]
    assert sale["status"] == "paid" and sales.json()["has_more"] is False
    # the scope it lacks: refused, with the scope named, and nothing changed
    refused = client.post("/api/v1/products/lagos-grotesk/unlist", headers=auth)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert "write:products" in refused.json()["message"]
    assert client.get("/api/v1/payouts", headers=auth).json()["code"] == "insufficient_scope"
    # nor can it make tokens, or reach the first-party endpoints
    assert client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read:sales"]}, headers=auth).status_code == 403
    assert client.get("/api/me/export", headers=auth).status_code == 403
    # the last use shows
    used = client.get("/api/v1/tokens", headers=first_party).json()["data"][0]
    assert used["last_used_at"] is not None and used["last_used_ip"]
    # revoked: refused at once
    assert client.delete(f"/api/v1/tokens/{used['id']}", headers=first_party).json()["revoked_at"]
    gone = client.get("/api/v1/sales", headers=auth)
    assert gone.status_code == 401 and gone.json()["code"] == "token_revoked"


def test_scopes_cannot_exceed_the_role(shop):
    client, edge, seller, buyer = shop
    r = client.post("/api/v1/tokens", json={"name": "n", "scopes": ["read:sales"]}, headers=jwt(client, "bea@example.com"))
    assert r.status_code == 422 and "buyer account cannot hold read:sales" in r.json()["fields"]["scopes"]
    r = client.post("/api/v1/tokens", json={"name": "n", "scopes": ["admin:*"]}, headers=jwt(client, "ade@example.com"))
    assert r.status_code == 422 and r.json()["fields"]["scopes"]
    assert edge.db.execute("SELECT COUNT(*) FROM personal_tokens").fetchone()[0] == 0


def test_a_buyer_reads_orders_and_library_and_mints_a_link(shop):
    client, edge, seller, buyer = shop
    order = sell(client, buyer, "lagos-grotesk")
    auth = personal_token(client, "bea@example.com", ["read:orders", "read:library"])
    orders = client.get("/api/v1/orders", headers=auth).json()["data"]
    assert [o["reference"] for o in orders] == [order["reference"]] and orders[0]["status"] == "paid"
    one = client.get(f"/api/v1/orders/{orders[0]['id']}", headers=auth).json()
    assert one["lines"][0]["product_slug"] == "lagos-grotesk"
    [item] = client.get("/api/v1/library", headers=auth).json()["data"]
    assert item["slug"] == "lagos-grotesk" and item["files"]
    link_ = client.post(f"/api/v1/library/{item['purchase_id']}/links", json={"sha256": item["files"][0]["sha256"]},
                        headers=auth)
    assert link_.status_code == 201 and "/download/" in link_.json()["url"]
    # a seller's resources are not a buyer's
    assert client.get("/api/v1/sales", headers=auth).status_code == 403


def test_pagination_filters_and_etags(shop):
    client, edge, seller, buyer = shop
    for slug in ("lagos-grotesk", "adire-display"):
        sell(client, buyer, slug)
    auth = personal_token(client, "ade@example.com", ["read:sales"])
    first = client.get("/api/v1/sales?limit=1", headers=auth).json()
    assert len(first["data"]) == 1 and first["has_more"] and first["next_cursor"]
    second = client.get(f"/api/v1/sales?limit=1&cursor={first['next_cursor']}", headers=auth).json()
    assert {first["data"][0]["product_slug"], second["data"][0]["product_slug"]} == {"lagos-grotesk", "adire-display"}
    assert second["has_more"] is False and second["next_cursor"] is None
    assert client.get("/api/v1/sales?created_after=2999-01-01", headers=auth).json()["data"] == []
    assert len(client.get("/api/v1/sales?created_before=2999-01-01&status=paid", headers=auth).json()["data"]) == 2
    assert client.get("/api/v1/sales?status=refunded", headers=auth).json()["data"] == []
    bad = client.get("/api/v1/sales?cursor=nonsense", headers=auth)
    assert bad.status_code == 422 and "cursor" in bad.json()["fields"]
    bad = client.get("/api/v1/sales?created_after=yesterday", headers=auth)
    assert bad.status_code == 422 and "created_after" in bad.json()["fields"]
    r = client.get("/api/v1/sales", headers=auth)
    again = client.get("/api/v1/sales", headers={**auth, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    # balances come from the ledger: both sales' net is pending (inside the refund window)
    money_auth = personal_token(client, "ade@example.com", ["read:payouts", "read:refunds"], name="money")
    sales = client.get("/api/v1/sales", headers=auth).json()["data"]
    balances = client.get("/api/v1/balances", headers=money_auth).json()["data"]
    for currency in {s_["net"]["currency"] for s_ in sales}:
        [row] = [b for b in balances if b["currency"] == currency]
        assert row["pending"]["amount"] == sum(s_["net"]["amount"] for s_ in sales if s_["net"]["currency"] == currency)
        assert row["available"]["amount"] == 0
    assert client.get("/api/v1/payouts?status=success", headers=money_auth).json()["data"] == []
    assert client.get("/api/v1/refunds?status=requested", headers=money_auth).json()["data"] == []
    assert client.get("/api/v1/refunds?status=bogus", headers=money_auth).status_code == 422


def test_the_same_idempotency_key_gets_the_same_answer(shop):
    client, edge, seller, buyer = shop
    first_party = {**jwt(client, "ade@example.com"), "Idempotency-Key": "key-1"}
    body = {"name": "ci", "scopes": ["read:sales"]}
    a = client.post("/api/v1/tokens", json=body, headers=first_party)
    b = client.post("/api/v1/tokens", json=body, headers=first_party)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert b.headers["idempotent-replayed"] == "true"
    assert edge.db.execute("SELECT COUNT(*) FROM personal_tokens").fetchone()[0] == 1
    other = client.post("/api/v1/tokens", json={**body, "name": "other"}, headers=first_party)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_every_route_answers_another_users_ids_with_404(shop):
    """A second seller, with every scope a seller can hold, walks every route with the first
    seller's and the buyer's ids: nothing of theirs is seen or changed."""
    client, edge, seller, buyer = shop
    sell(client, buyer, "lagos-grotesk")
    buyer_auth = personal_token(client, "bea@example.com", ["read:orders", "read:library", "write:reviews"])
    mine = personal_token(client, "ade@example.com", ["read:sales", "write:webhooks", "write:discounts"], name="ade's")
    review = client.post("/api/v1/reviews", json={"product": "lagos-grotesk", "rating": 5, "body": "Crisp."},
                         headers=buyer_auth).json()
    code = client.post("/api/v1/discounts", json={"code": "ADE10", "percent": "10"}, headers=mine).json()
    endpoint = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": ["sale"]},
                           headers=mine).json()
    delivery = client.post(f"/api/v1/webhooks/{endpoint['id']}/test", headers=mine).json()
    make_account(edge, "eve@example.com", "seller", "Eve Other")
    from checkout.accounts.api_tokens import SCOPES
    eve = personal_token(client, "eve@example.com", [s for s, (roles, _) in SCOPES.items() if "seller" in roles])
    eve_jwt = jwt(client, "eve@example.com")
    ids = {"order_id": str(client.get("/api/v1/orders", headers=buyer_auth).json()["data"][0]["id"]),
           "purchase_id": str(client.get("/api/v1/library", headers=buyer_auth).json()["data"][0]["purchase_id"]),
           "sale_id": str(client.get("/api/v1/sales", headers=mine).json()["data"][0]["id"]),
           "token_id": str(edge.db.execute("SELECT id FROM personal_tokens ORDER BY id LIMIT 1").fetchone()[0]),
           "slug": "lagos-grotesk", "endpoint_id": str(endpoint["id"]), "delivery_id": str(delivery["id"]),
           "review_id": str(review["id"]), "code_id": str(code["id"])}
    walked = 0
    for op in OPERATIONS:
        if "{" not in op.path or op.roles == ("admin",) or op.scope is None:
            continue  # admin operations answer a seller 403 whatever the id (test_admin_operations_need_admin)
        headers = eve_jwt if op.path.startswith("/api/v1/tokens") else eve
        body = {"sha256": "0" * 64} if op.body is not None else None
        r = client.request(op.method, _fill(op.path, ids), headers=headers, json=body)
        assert r.status_code == 404, (op.method, op.path, r.status_code, r.text)
        walked += 1
    assert walked >= 20
    # and nothing of theirs changed
    assert client.get(f"/api/v1/webhooks/{endpoint['id']}", headers=mine).json()["status"] == "active"
    assert client.get(f"/api/v1/discounts/{code['id']}", headers=mine).json()["paused"] is False
    [kept] = client.get("/api/v1/reviews", headers=buyer_auth).json()["data"]
    assert (kept["id"], kept["body"], kept["reply"]) == (review["id"], "Crisp.", None)
    assert edge.db.execute("SELECT COUNT(*) FROM personal_tokens WHERE revoked_at IS NOT NULL").fetchone()[0] == 0
    # lists show only Eve's own (nothing)
    for path in ("/api/v1/sales", "/api/v1/refunds", "/api/v1/payouts", "/api/v1/balances", "/api/v1/products",
                 "/api/v1/orders", "/api/v1/library", "/api/v1/webhooks", "/api/v1/discounts", "/api/v1/reviews",
                 "/api/v1/seller/reviews"):
        r = client.get(path, headers=eve)
        assert r.status_code == 200 and r.json()["data"] == [], (path, r.text)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(name=st.one_of(st.none(), st.integers(), st.text(max_size=300), st.lists(st.text(max_size=3), max_size=2)),
       scopes=st.one_of(st.none(), st.text(max_size=20), st.lists(st.one_of(st.text(max_size=20), st.integers()),
                                                                  max_size=3)))
def test_token_bodies_are_checked_field_by_field(make_client, name, scopes):
    client = _hypo_client(make_client)
    edge = client.app.state.edge
    before = edge.db.execute("SELECT COUNT(*) FROM personal_tokens").fetchone()[0]
    r = client.post("/api/v1/tokens", json={"name": name, "scopes": scopes}, headers=client.first_party)
    assert r.status_code < 500
    if r.status_code != 201:
        assert r.status_code == 422 and set(r.json()["fields"]) <= {"name", "scopes"}
        assert edge.db.execute("SELECT COUNT(*) FROM personal_tokens").fetchone()[0] == before


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(query=st.dictionaries(st.sampled_from(["limit", "cursor", "created_after", "created_before", "status"]),
                             st.text(max_size=40), max_size=4))
def test_list_queries_never_fail_the_server(make_client, query):
    client = _hypo_client(make_client)
    r = client.get("/api/v1/orders", params=query, headers=client.first_party)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert set(r.json()["fields"]) <= set(query)


_CLIENTS: dict[int, object] = {}


def _hypo_client(make_client):
    """One client per test function (Hypothesis runs the body many times with one fixture)."""
    key = id(make_client)
    if key not in _CLIENTS:
        _CLIENTS.clear()
        client = make_client()
        make_account(client.app.state.edge, "hy@example.com", "seller", "Hy Pothesis")
        client.first_party = jwt(client, "hy@example.com")
        _CLIENTS[key] = client
    return _CLIENTS[key]


def test_admin_operations_need_an_admin_token_with_admin_scope(shop):
    client, edge, seller, buyer = shop
    seller_token = personal_token(client, "ade@example.com", ["read:sales"])
    assert client.get("/api/v1/admin/users", headers=seller_token).status_code == 403
    make_account(edge, "root@example.com", "admin", "Root Admin")
    narrow = personal_token(client, "root@example.com", ["read:sales"])
    assert client.get("/api/v1/admin/users", headers=narrow).json()["code"] == "insufficient_scope"
    admin = personal_token(client, "root@example.com", ["admin:*"])
    found = client.get("/api/v1/admin/users?q=bea", headers=admin).json()["data"]
    assert [u["email"] for u in found] == ["bea@example.com"]
    banned = client.post(f"/api/v1/admin/users/{found[0]['id']}/ban", json={"reason": "chargebacks"}, headers=admin)
    assert banned.status_code == 200 and banned.json()["user"]["banned"] is True
    missing = client.post("/api/v1/admin/users/999999/ban", json={}, headers=admin)
    assert missing.status_code == 404
    assert client.post(f"/api/v1/admin/users/{found[0]['id']}/unban", json={}, headers=admin).status_code == 422
