"""Discount codes through the public API (issues #17 and #21): a seller lists, creates, pauses and
resumes the codes of the sellers they manage, with their uses; another seller's code answers 404."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .consoles import build_site, link, make_account
from .test_api_v1 import personal_token


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("built"))


def _shop(make_client, built, site):
    shutil.copytree(built, site)
    client = make_client(CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                         REBUILD_ON_APPROVAL=False)
    edge = client.app.state.edge
    link(edge, make_account(edge, "ade@example.com", "seller", "Ade Foundry"))
    return client, edge


@pytest.fixture
def shop(make_client, built, tmp_path):
    return _shop(make_client, built, tmp_path / "site")


def test_a_seller_creates_pauses_and_resumes_a_code(shop):
    client, edge = shop
    ade = personal_token(client, "ade@example.com", ["write:discounts"])
    made = client.post("/api/v1/discounts", json={"code": "launch-20", "percent": "20", "max_uses": 50,
                                                  "products": ["lagos-grotesk"]},
                       headers={**ade, "Idempotency-Key": "k1"})
    assert made.status_code == 201, made.text
    code = made.json()
    assert (code["code"], code["describe"], code["percent"], code["uses"], code["paused"]) == \
        ("LAUNCH-20", "20% off", "20", 0, False)
    assert code["products"] == ["lagos-grotesk"] and code["seller"] == "adire-type-foundry"
    # the same key: the same answer, no second code
    again = client.post("/api/v1/discounts", json={"code": "launch-20", "percent": "20", "max_uses": 50,
                                                   "products": ["lagos-grotesk"]},
                        headers={**ade, "Idempotency-Key": "k1"})
    assert again.status_code == 201 and again.json()["id"] == code["id"]
    # a second code with the same name: 409 naming the field
    taken = client.post("/api/v1/discounts", json={"code": "LAUNCH-20", "percent": "5"}, headers=ade)
    assert taken.status_code == 409 and "code" in taken.json()["fields"]
    fixed = client.post("/api/v1/discounts", json={"code": "NAIRA500", "amount": 50000, "currency": "NGN"},
                        headers=ade).json()
    assert fixed["amount"]["amount"] == 50000 and fixed["describe"].endswith("off")
    paused = client.post(f"/api/v1/discounts/{code['id']}/pause", headers=ade)
    assert paused.status_code == 200 and paused.json()["paused"] is True
    listed = client.get("/api/v1/discounts", headers=ade).json()["data"]
    assert {(c["code"], c["paused"]) for c in listed} == {("LAUNCH-20", True), ("NAIRA500", False)}
    assert client.post(f"/api/v1/discounts/{code['id']}/resume", headers=ade).json()["paused"] is False


def test_another_sellers_codes_and_scopes(shop):
    client, edge = shop
    ade = personal_token(client, "ade@example.com", ["write:discounts"])
    code = client.post("/api/v1/discounts", json={"code": "ADE10", "percent": "10"}, headers=ade).json()
    make_account(edge, "eve@example.com", "seller", "Eve Other")
    eve = personal_token(client, "eve@example.com", ["write:discounts"])
    assert client.get(f"/api/v1/discounts/{code['id']}", headers=eve).status_code == 404
    assert client.post(f"/api/v1/discounts/{code['id']}/pause", headers=eve).status_code == 404
    assert client.get("/api/v1/discounts", headers=eve).json()["data"] == []
    # Eve cannot make a code for Ade's seller
    refused = client.post("/api/v1/discounts", json={"code": "EVIL", "percent": "90", "seller": "adire-type-foundry"},
                          headers=eve)
    assert refused.status_code == 422 and "seller" in refused.json()["fields"]
    # a read token reads but cannot pause; a buyer cannot even hold the scope
    reader = personal_token(client, "ade@example.com", ["read:discounts"])
    assert client.get("/api/v1/discounts", headers=reader).status_code == 200
    denied = client.post(f"/api/v1/discounts/{code['id']}/pause", headers=reader)
    assert denied.status_code == 403 and denied.json()["code"] == "insufficient_scope"
    assert client.get(f"/api/v1/discounts/{code['id']}", headers=ade).json()["paused"] is False
    make_account(edge, "bea@example.com", "buyer", "Bea Buyer")
    from .test_api_v1 import jwt
    r = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["read:discounts"]},
                    headers=jwt(client, "bea@example.com"))
    assert r.status_code == 422 and "scopes" in r.json()["fields"]


_CLIENTS: dict[int, object] = {}
HOSTILE = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=60), st.lists(st.text(max_size=20), max_size=2),
                    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
KEYS = ["code", "seller", "percent", "amount", "currency", "products", "max_uses", "per_buyer", "min_order", "starts",
        "ends", "first_purchase_only", "other"]


@settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(body=st.dictionaries(st.sampled_from(KEYS), HOSTILE, max_size=6))
def test_hostile_bodies_get_a_4xx_naming_the_field_and_change_nothing(make_client, built, tmp_path_factory, body):
    key = id(make_client)
    if key not in _CLIENTS:
        _CLIENTS.clear()
        client, edge = _shop(make_client, built, tmp_path_factory.mktemp("hyp") / "site")
        client.ade = personal_token(client, "ade@example.com", ["write:discounts"])
        _CLIENTS[key] = client
    client = _CLIENTS[key]
    edge = client.app.state.edge
    before = edge.db.execute("SELECT COUNT(*) FROM discount_codes").fetchone()[0]
    r = client.post("/api/v1/discounts", json=body, headers=client.ade)
    assert r.status_code < 500, r.text
    if r.status_code != 201:
        assert 400 <= r.status_code < 500 and r.json()["message"]
        assert edge.db.execute("SELECT COUNT(*) FROM discount_codes").fetchone()[0] == before
        if r.status_code == 422:
            assert set(r.json()["fields"]) <= set(body) | {"code", "percent", "currency"}, (body, r.json())
