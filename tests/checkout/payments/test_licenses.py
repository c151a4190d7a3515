"""License keys (issue #18): issued with the payment, shown to the buyer, verified, activated up
to their limit and deactivated through the public API, refused after a refund, managed by the
seller, rate limited, and never written to a log."""

from __future__ import annotations

import re

import pytest

from checkout.accounts import gdpr, users
from checkout.payments import ledger, licenses, payouts, refunds

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, PRODUCTS, deliver_held, make_buyer, write_shop_catalog

SITE = {"origin": "http://127.0.0.1:8000"}
KEY = re.compile(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}-[2-9A-Z]{5}\b")


def edge_of(client):
    return client.app.state.edge


@pytest.fixture
def catalog_path(tmp_path):
    path = tmp_path / "catalog.json"
    products = {**PRODUCTS, "lagos-grotesk": {**PRODUCTS["lagos-grotesk"], "license_keys": True,
                                              "license_activations": 2}}
    write_shop_catalog(path, products)
    return path


def buy(client, sandbox, email="buyer@example.com", slug="lagos-grotesk"):
    edge = edge_of(client)
    found = users.get_by_email(edge, email)
    user = dict(found) if found else make_buyer(edge, email)
    login(client, email, PASSWORD)
    assert client.post("/checkout", data={"product": slug}, headers=SITE).status_code == 303
    ref = edge.db.execute("SELECT reference FROM orders ORDER BY id DESC").fetchone()[0]
    sandbox.pay(ref)
    assert deliver_held(client, sandbox.take_held()) == ["paid"]
    return user, ref


def call(client, action, **body):
    return client.post(f"/api/v1/licenses/{action}", json=body)


def test_a_key_is_issued_shown_verified_and_activated_to_its_limit(shop, sandbox, capfd):
    user, ref = buy(shop, sandbox)
    edge = edge_of(shop)
    key = edge.db.execute("SELECT license_key FROM license_keys").fetchone()[0]
    assert KEY.fullmatch(key)
    # in the receipt, on the thank-you page and in the library
    assert key in outbox_rows(shop, "receipt")[0]["text_body"]
    assert key in shop.get(f"/checkout/callback?reference={ref}").text
    assert key in shop.get("/library").text
    # a product without keys gets none
    buy(shop, sandbox, slug="kente-template")
    assert edge.db.execute("SELECT COUNT(*) FROM license_keys").fetchone()[0] == 1

    shop.cookies.clear()  # the API needs no account: the key is the credential
    r = call(shop, "verify", product="lagos-grotesk", license_key=key.lower().replace("-", " "))
    assert r.status_code == 200
    assert r.json() | {"purchased_at": None} == {
        "valid": True, "product": "lagos-grotesk", "refunded": False, "disabled": False, "activations": 0,
        "activation_limit": 2, "limit_reached": False, "purchased_at": None, "order": ref}
    first = call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Studio iMac")
    assert first.status_code == 200 and first.json()["activations"] == 1
    assert first.json()["instance"]["name"] == "Studio iMac"
    # a form body works as well as JSON (software often posts forms)
    second = shop.post("/api/v1/licenses/activate",
                       data={"product": "lagos-grotesk", "license_key": key, "instance_name": "Laptop"})
    assert second.status_code == 200 and second.json()["limit_reached"] is True
    third = call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Third")
    assert (third.status_code, third.json()["code"]) == (409, "activation_limit_reached")
    assert "2 of 2" in third.json()["message"]
    freed = call(shop, "deactivate", product="lagos-grotesk", license_key=key,
                 instance_id=first.json()["instance"]["id"])
    assert freed.status_code == 200 and freed.json()["activations"] == 1
    again = call(shop, "deactivate", product="lagos-grotesk", license_key=key,
                 instance_id=first.json()["instance"]["id"])
    assert (again.status_code, again.json()["code"]) == (404, "instance_not_found")
    assert call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Third").status_code == 200
    # another product's slug, or a made-up key, answer alike
    for body in ({"product": "kente-template", "license_key": key},
                 {"product": "lagos-grotesk", "license_key": "AAAAA-AAAAA-AAAAA-AAAAA"}):
        r = call(shop, "verify", **body)
        assert (r.status_code, r.json()["code"]) == (404, "license_not_found")
    out, err = capfd.readouterr()
    assert key not in out + err and key.replace("-", "") not in out + err  # keys are never logged


def test_a_refund_disables_the_key(shop, sandbox):
    user, ref = buy(shop, sandbox)
    edge = edge_of(shop)
    key = edge.db.execute("SELECT license_key FROM license_keys").fetchone()[0]
    assert call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Desk").status_code == 200
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    rid = refunds.request_refund(edge, user, line, "Not what I expected")
    refunds.decide_refund(edge, rid, user["id"], approve=True)
    refunds.send_refund(edge, rid)
    assert deliver_held(shop, sandbox.take_held())[-1] == "refunded"
    r = call(shop, "verify", product="lagos-grotesk", license_key=key)
    assert r.status_code == 200 and (r.json()["valid"], r.json()["refunded"]) == (False, True)
    r = call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Other")
    assert (r.status_code, r.json()["code"]) == (409, "license_refunded")
    assert "refunded" in shop.get("/library").text
    assert ledger.check(edge.db) == []
    exported = gdpr.export(edge, user["id"])  # the buyer's data export holds the key and the documents
    assert [k["license_key"] for k in exported["license_keys"]] == [key]
    assert [i["kind"] for i in exported["invoices"]] == ["invoice", "credit_note"]


def test_the_seller_sees_activations_and_disables_enables_or_resets_a_key(shop, sandbox):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    buy(shop, sandbox)
    key_id, key = edge.db.execute("SELECT id, license_key FROM license_keys").fetchone()
    call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="Studio iMac")
    shop.cookies.clear()
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/licenses")
    assert page.status_code == 200 and key in page.text and "Studio iMac" in page.text and "buyer@example.com" in page.text

    def act(action):
        return shop.post("/seller/licenses", data={"csrf_token": csrf_from(shop.get("/account").text),
                                                   "license": key_id, "action": action})
    assert act("disable").status_code == 303
    r = call(shop, "verify", product="lagos-grotesk", license_key=key)
    assert (r.json()["valid"], r.json()["disabled"]) == (False, True)
    r = call(shop, "activate", product="lagos-grotesk", license_key=key, instance_name="X")
    assert (r.status_code, r.json()["code"]) == (409, "license_disabled")
    assert act("enable").status_code == 303
    assert call(shop, "verify", product="lagos-grotesk", license_key=key).json()["valid"] is True
    assert act("reset").status_code == 303
    assert call(shop, "verify", product="lagos-grotesk", license_key=key).json()["activations"] == 0
    assert act("explode").status_code == 422
    # another seller cannot touch it
    kofi = make_buyer(edge, "kofi@example.com", role="seller")
    payouts.link_seller(edge, kofi["id"], "kofi")
    shop.cookies.clear()
    login(shop, "kofi@example.com", PASSWORD)
    assert key not in shop.get("/seller/licenses").text
    assert act("disable").status_code == 403
    assert [r[0] for r in edge.db.execute("SELECT action FROM audit_log WHERE action LIKE 'license.%' ORDER BY id")] == \
        ["license.disable", "license.enable", "license.reset"]


def test_calls_are_limited_per_key_and_per_address(make_client, sandbox):
    client = make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, LICENSE_KEY_LIMIT="3/minute",
                         LICENSE_IP_LIMIT="5/minute")
    buy(client, sandbox)
    key = edge_of(client).db.execute("SELECT license_key FROM license_keys").fetchone()[0]
    codes = [call(client, "verify", product="lagos-grotesk", license_key=key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = call(client, "verify", product="lagos-grotesk", license_key=key)
    assert int(r.headers["retry-after"]) >= 1
    # other keys from the same address run into the address's limit
    other = [call(client, "verify", product="lagos-grotesk", license_key=licenses.new_key()).status_code
             for _ in range(3)]
    assert other[-1] == 429


def test_the_license_api_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for action in ("verify", "activate", "deactivate"):
        op = paths[f"/api/v1/licenses/{action}"]["post"]
        assert "license_key" in op["requestBody"]["content"]["application/json"]["schema"]["required"]


def test_keys_are_readable_and_normalised():
    keys = {licenses.new_key() for _ in range(200)}
    assert len(keys) == 200 and all(KEY.fullmatch(k) for k in keys)
    k = next(iter(keys))
    assert licenses.normalize(k.lower()) == k and licenses.normalize(k.replace("-", " ")) == k
    assert licenses.normalize("O0I1L-AAAAA-AAAAA-AAAAA") is None and licenses.normalize(42) is None
