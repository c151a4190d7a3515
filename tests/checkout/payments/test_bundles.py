"""Bundles at the edge: one line and one sale journal for the whole bundle, every member's file
in the buyer's library, the written rule for members already owned (refused, naming them), a
member owned through a bundle refused like any owned product, and a refund revoking it all."""

from __future__ import annotations

import pytest

from checkout.core.errors import Conflict
from checkout.payments import ledger, orders
from checkout.payments.purchases import owns

from ..conftest import csrf_from, login
from .conftest import PASSWORD, PRODUCTS, deliver_held, make_buyer, write_shop_catalog
from .test_refunds_payouts import as_admin


def _file(name: str, digit: str) -> dict:
    return {"name": name, "size": 100, "sha256": digit * 64, "key": f"sha256/{digit * 2}/{digit * 64}"}


BUNDLED = {
    **PRODUCTS,
    "lagos-grotesk": {**PRODUCTS["lagos-grotesk"], "files": [_file("LagosGrotesk.ttf", "a")]},
    "ada-icons": {"title": "Ada Icons", "seller": "ada", "category": "graphics", "price": 300000, "currency": "NGN",
                  "pwyw_minimum": None, "url": "/products/ada-icons/", "files": [_file("icons.zip", "b")]},
    "ada-pack": {"title": "Ada Pack", "seller": "ada", "category": "fonts", "price": 600000, "currency": "NGN",
                 "pwyw_minimum": None, "url": "/products/ada-pack/", "bundle": ["lagos-grotesk", "ada-icons"],
                 "files": [_file("LagosGrotesk.ttf", "a"), _file("icons.zip", "b")]},
}


@pytest.fixture
def catalog_path(tmp_path):
    path = tmp_path / "catalog.json"
    write_shop_catalog(path, BUNDLED)
    return path


def edge_of(client):
    return client.app.state.edge


def buy(shop, sandbox, slug: str) -> dict:
    edge = edge_of(shop)
    page = shop.get(f"/buy?product={slug}")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": slug})
    assert r.status_code == 303, r.text
    order = dict(edge.db.execute("SELECT * FROM orders ORDER BY id DESC").fetchone())
    sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    return order


def test_a_bundle_is_one_sale_with_every_members_file_and_its_refund_revokes_it_all(shop, sandbox):
    edge = edge_of(shop)
    user = make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    order = buy(shop, sandbox, "ada-pack")
    assert order["amount"] == 600000
    assert len({j["id"] for j in ledger.journals_for(edge, order["id"]) if j["kind"] == "sale"}) == 1
    assert edge.db.execute("SELECT COUNT(*) FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()[0] == 1
    library = shop.get("/library").text
    assert "Ada Pack" in library and "LagosGrotesk.ttf" in library and "icons.zip" in library
    # a product of the bundle is owned through it
    page = shop.get("/buy?product=ada-icons")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "ada-icons"})
    assert r.status_code == 409 and "through the bundle Ada Pack" in r.text
    # refund: the whole bundle goes
    line = edge.db.execute("SELECT id FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()[0]
    page = shop.get("/orders")
    shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line, "reason": "Not what I needed"})
    as_admin(shop)
    page = shop.get("/admin/refunds")
    refund_id = edge.db.execute("SELECT id FROM refunds").fetchone()[0]
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": refund_id, "action": "approve"})
    assert "refunded" in deliver_held(shop, sandbox.take_held())
    assert not owns(edge.db, user["id"], "ada-pack")
    assert ledger.check(edge.db) == []


def test_a_bundle_with_a_product_already_owned_or_in_the_same_order_is_refused_naming_it(shop, sandbox):
    edge = edge_of(shop)
    user = make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    buy(shop, sandbox, "lagos-grotesk")
    page = shop.get("/buy?product=ada-pack")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "ada-pack"})
    assert r.status_code == 409 and "Lagos Grotesk, part of the bundle Ada Pack" in r.text
    other = make_buyer(edge, "other@example.com")
    with pytest.raises(Conflict, match="Ada Icons, part of the bundle"):
        orders.create_order(edge, other, [("ada-pack", None), ("ada-icons", None)])
    assert edge.db.execute("SELECT COUNT(*) FROM orders WHERE user_id = ?", (other["id"],)).fetchone()[0] == 0
    assert user["id"] != other["id"]
