"""Affiliates through the edge and the sandbox: a seller invites an account, the Buy form sent
from the affiliate's link counts a click and remembers the referral in a first-party cookie, the
sale books the commission from the seller's share (never the platform fee), the affiliate's
earnings are released, and a refund reverses them; the affiliate sees clicks, sales and earnings."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.cli.promotions import affiliate
from checkout.core.errors import ValidationFailed
from checkout.payments import affiliates, discounts, ledger, orders, payouts

from ..conftest import csrf_from, login
from .conftest import PASSWORD, deliver_held, make_buyer
from .test_refunds_payouts import as_admin

SITE = {"origin": "http://127.0.0.1:8000"}


def edge_of(client):
    return client.app.state.edge


def invite_through_console(shop, percent="20", products=()):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    make_buyer(edge, "aff@example.com")
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/affiliates")
    assert page.status_code == 200 and "No affiliates yet" in page.text
    r = shop.post("/seller/affiliates", data={"csrf_token": csrf_from(page.text), "seller": "ada",
                                              "email": "aff@example.com", "percent": percent, "code": "amaka",
                                              "product": list(products)})
    assert r.status_code == 303, r.text
    shop.cookies.clear()
    return affiliates.by_code(edge, "AMAKA")


def buy_through_link(shop, sandbox, slug="lagos-grotesk", email="buyer@example.com", via="amaka"):
    edge = edge_of(shop)
    if edge.db.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone() is None:
        make_buyer(edge, email)
    login(shop, email, PASSWORD)
    r = shop.post("/checkout", data={"product": slug, "via": via}, headers=SITE)
    assert r.status_code == 303, r.text
    order = dict(edge.db.execute("SELECT * FROM orders ORDER BY id DESC").fetchone())
    sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    return order, r


def test_a_sale_through_the_link_books_the_commission_from_the_sellers_share(shop, sandbox, clock):
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    assert aff["commission_bps"] == 2000
    order, r = buy_through_link(shop, sandbox)
    cookie = r.headers["set-cookie"]
    assert "dd_via=" in cookie and "Max-Age=2592000" in cookie  # 30 days, first-party, on the edge
    line = dict(edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone())
    assert (line["amount"], line["fee"], line["commission"], line["affiliate_id"]) == (500000, 50000, 100000, aff["id"])
    assert ledger.check(edge.db) == []
    assert ledger.balance(edge, "platform:fees", "NGN") == -50000  # the fee is untouched
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == -350000
    assert ledger.balance(edge, f"affiliate:{aff['id']}:pending", "NGN") == -100000
    assert ledger.seller_stats(edge, "ada")["NGN"]["net"] == 350000
    # the referral is remembered by the cookie: a later buy of another of ada's products earns too
    later, _ = buy_through_link(shop, sandbox, slug="zine-kit", via="")
    assert edge.db.execute("SELECT commission FROM order_lines WHERE order_id = ?", (later["id"],)).fetchone()[0] == 200
    # kofi's product earns nothing (the invitation is ada's)
    other, _ = buy_through_link(shop, sandbox, slug="kente-template", via="")
    assert edge.db.execute("SELECT commission FROM order_lines WHERE order_id = ?", (other["id"],)).fetchone()[0] == 0
    # the affiliate's dashboard
    shop.cookies.clear()
    login(shop, "aff@example.com", PASSWORD)
    page = shop.get("/affiliate")
    row = page.text[page.text.find("AMAKA"):]
    assert page.status_code == 200 and "20%" in row and "₦1,000" in row
    found = affiliates.listing(edge, user_id=aff["user_id"])[0]
    assert (found["clicks"], found["sales"]) == (1, 2)
    # past the refund window the commission becomes available, like a seller's earnings
    clock.advance(8 * 86400)
    payouts.release_due(edge)
    assert ledger.balance(edge, f"affiliate:{aff['id']}:available", "NGN") == -100000
    assert ledger.check(edge.db) == []
    from checkout.payments import reports
    assert all(row["ok"] for row in reports.tie_out(edge.db))  # the reports still tie out to the ledger


def test_a_refund_takes_the_commission_back_and_own_purchases_earn_nothing(shop, sandbox):
    edge = edge_of(shop)
    invite_through_console(shop, percent="12.5", products=["lagos-grotesk"])
    order, _ = buy_through_link(shop, sandbox)
    line = dict(edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone())
    assert line["commission"] == 62500
    page = shop.get("/orders")
    shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line["id"], "reason": "Not for me"})
    as_admin(shop)
    page = shop.get("/admin/refunds")
    refund_id = edge.db.execute("SELECT id FROM refunds").fetchone()[0]
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": refund_id, "action": "approve"})
    held = sandbox.take_held()
    assert "refunded" in deliver_held(shop, held + held)
    assert ledger.check(edge.db) == []
    balances = ledger.balances(edge)
    assert all(v == 0 for (a, _), v in balances.items() if a not in (ledger.COSTS, ledger.RECEIVABLE)), balances
    assert balances[(ledger.RECEIVABLE, "NGN")] == -balances.get((ledger.COSTS, "NGN"), 0)  # Paystack kept its charge
    # the affiliate buying through their own link earns nothing
    shop.cookies.clear()
    own, _ = buy_through_link(shop, sandbox, email="aff@example.com")
    assert edge.db.execute("SELECT commission FROM order_lines WHERE order_id = ?", (own["id"],)).fetchone()[0] == 0
    assert affiliates.listing(edge, seller="ada")[0]["sales"] == 0  # the refunded sale no longer counts


def test_inviting_names_each_bad_field(shop, sandbox):
    edge = edge_of(shop)
    seller = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller["id"], "ada")
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/affiliates")
    base = {"csrf_token": csrf_from(page.text), "seller": "ada", "email": "ada@example.com", "percent": "10"}
    for change, field in (({"email": "nobody@example.com"}, "email"), ({"percent": "200"}, "percent"),
                          ({"percent": "ten"}, "percent"), ({"code": "no way!"}, "code"),
                          ({"product": "kente-template"}, "product")):
        r = shop.post("/seller/affiliates", data={**base, **change})
        assert r.status_code == 422 and f'id="{field}-error"' in r.text, (change, r.text[-500:])
    assert shop.post("/seller/affiliates", data={**base, "seller": "kofi"}).status_code == 403
    assert shop.post("/seller/affiliates", data={**base, "code": "mine"}).status_code == 303
    r = shop.post("/seller/affiliates", data={**base, "code": "again"})
    assert r.status_code == 409 and "already an affiliate" in r.text
    a = affiliates.by_code(edge, "MINE")
    r = shop.post("/seller/affiliates", data={**base, "action": "stop", "affiliate": str(a["id"])})
    assert r.status_code == 303 and affiliates.by_code(edge, "MINE") is None  # stopped: the link earns nothing
    r = shop.post("/seller/affiliates", data={**base, "action": "stop", "affiliate": "x"})
    assert r.status_code == 422


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(via=st.one_of(st.text(max_size=100), st.just("AMAKA"), st.just("amaka\x00"), st.just("A" * 3000)))
def test_any_via_value_never_blocks_a_purchase_and_only_a_real_code_is_remembered(shop, sandbox, via):
    edge = edge_of(shop)
    if affiliates.by_code(edge, "AMAKA") is None:
        invite_through_console(shop)
    r = shop.post("/cart/add", data={"product": "kente-template", "via": via}, headers=SITE)
    assert r.status_code == 303
    remembered = "dd_via=" in r.headers.get("set-cookie", "")
    assert remembered == (via.strip().upper() == "AMAKA")


def test_affiliate_commands(tmp_path, catalog_path, monkeypatch, make_client):
    monkeypatch.setenv("DIGITALDOCK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CATALOG_PATH", str(catalog_path))
    from checkout.cli.common import make_edge
    edge = make_edge()
    make_buyer(edge, "aff@example.com")
    edge.close()
    runner = CliRunner()
    r = runner.invoke(affiliate, ["invite", "aff@example.com", "--seller", "kofi", "--percent", "15"])
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout.strip().splitlines()[-1])
    assert made["code"] == "AFF-KOFI" and made["commission_bps"] == 1500
    r = runner.invoke(affiliate, ["invite", "aff@example.com", "--seller", "nobody", "--percent", "15"])
    assert r.exit_code == 1 and "no seller" in r.output
    r = runner.invoke(affiliate, ["list"])
    rows = [json.loads(line) for line in r.stdout.splitlines() if '"clicks"' in line]
    assert rows == [{"code": "AFF-KOFI", "seller": "kofi", "email": "aff@example.com", "percent": "15%", "active": True,
                     "clicks": 0, "sales": 0, "earned": {}, "available": {}}]


def test_the_gdpr_export_holds_a_users_affiliate_links_and_code_uses(shop, sandbox):
    from checkout.accounts import gdpr
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    data = gdpr.export(edge, aff["user_id"])
    assert [a["code"] for a in data["affiliates"]] == ["AMAKA"] and data["discount_uses"] == []


def test_an_affiliate_whose_account_closes_earns_no_more(shop, sandbox):
    from checkout.core import retention
    edge = edge_of(shop)
    aff = invite_through_console(shop)
    edge.db.execute("UPDATE users SET disabled_at = ? WHERE id = ?", (edge.clock.iso(), aff["user_id"]))
    report = retention.run(edge)
    assert report["affiliate_links_stopped"] == 1
    assert affiliates.by_code(edge, "AMAKA") is None


def test_a_forged_or_foreign_referral_cookie_earns_nothing(shop, sandbox):
    edge = edge_of(shop)
    invite_through_console(shop)
    make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    for forged in ("AMAKA", edge.tokens.sign_cookie("orders", "AMAKA"), "AMAKA.forged-signature"):
        shop.cookies.set("dd_via", forged)
        page = shop.get("/buy?product=lagos-grotesk")
        r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk"})
        assert r.status_code == 303
        line = edge.db.execute("SELECT commission, affiliate_id FROM order_lines ORDER BY id DESC").fetchone()
        assert tuple(line) == (0, None), forged
    assert ledger.balances(edge, "affiliate:") == {}


def test_a_discount_code_cannot_be_used_past_its_limit_by_racing_or_replaying(shop, sandbox):
    """The limit holds against parallel checkouts (test_discount_property) and replayed webhooks."""
    edge = edge_of(shop)
    discounts.create(edge, "ONE", percent="50", max_uses=1)
    buyer = make_buyer(edge)
    order = orders.create_order(edge, buyer, [("lagos-grotesk", None)], code="one")
    orders.record_authorization(edge, order, orders.call_initialize(edge, order))
    sandbox.pay(order["reference"])
    held = sandbox.take_held()
    assert deliver_held(shop, held * 3) == ["paid", "duplicate", "duplicate"]
    assert edge.db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0] == 1
    other = make_buyer(edge, "other@example.com")
    with pytest.raises(ValidationFailed, match="used up"):
        orders.create_order(edge, other, [("lagos-grotesk", None)], code="one")
