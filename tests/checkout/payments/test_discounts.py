"""Discount codes through the edge and the sandbox: the code field and `?code=` show the
discounted price before paying, Paystack is asked for exactly that, the ledger books it (a
seller's code costs the seller, a platform code costs `platform:discounts`), refunds return what
was paid, and every refusal (unknown, expired, used up, not applicable, paused) says why."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.cli.promotions import discount
from checkout.payments import discounts, ledger, orders
from checkout.payments.purchases import owns

from ..conftest import csrf_from, login
from .conftest import PASSWORD, deliver_held, make_buyer
from .test_refunds_payouts import as_admin

SITE = {"origin": "http://127.0.0.1:8000"}


def edge_of(client):
    return client.app.state.edge


def signed_in(shop, email="buyer@example.com"):
    user = make_buyer(edge_of(shop), email)
    login(shop, email, PASSWORD)
    return user


def pay_with_code(shop, sandbox, query: str, code: str) -> dict:
    page = shop.get(f"/buy?{query}&code={code}")
    assert page.status_code == 200, page.text
    data = {"csrf_token": csrf_from(page.text), "code": code}
    data.update(dict(part.split("=") for part in query.split("&")))
    r = shop.post("/buy", data=data)
    assert r.status_code == 303, r.text
    order = dict(edge_of(shop).db.execute("SELECT * FROM orders ORDER BY id DESC").fetchone())
    sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    return order


def test_a_sellers_code_is_shown_before_paying_charged_booked_and_refunded_exactly(shop, sandbox):
    edge = edge_of(shop)
    discounts.create(edge, "Ada-10", percent="10", seller="ada")
    user = signed_in(shop)
    page = shop.get("/buy?product=lagos-grotesk&code=ada-10")
    assert page.status_code == 200
    assert 'id="discount">−₦500<' in page.text and 'id="total">₦4,500<' in page.text
    assert 'value="ADA-10"' in page.text  # kept in the pay form, shown in the field
    order = pay_with_code(shop, sandbox, "product=lagos-grotesk", "ada-10")
    assert order["amount"] == 450000
    assert sandbox.box.transactions[order["reference"]]["amount"] == 450000
    line = dict(edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone())
    assert (line["list_amount"], line["discount"], line["amount"], line["fee"], line["net"], line["subsidy"]) == \
        (500000, 50000, 450000, 45000, 405000, 0)  # the fee is 10% of what was paid; the seller bears the code
    assert ledger.check(edge.db) == []
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == -405000
    assert ledger.balance(edge, ledger.DISCOUNTS, "NGN") == 0
    assert discounts.listing(edge, "ada")[0]["report"][0]["uses"] == 1
    # refund: the buyer gets back what they paid, every account returns to where it was
    page = shop.get("/orders")
    r = shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line["id"],
                                          "reason": "Wrong font weight"})
    assert r.status_code == 303
    as_admin(shop)
    page = shop.get("/admin/refunds")
    refund_id = edge.db.execute("SELECT id FROM refunds").fetchone()[0]
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": refund_id, "action": "approve"})
    assert sandbox.box.refunds[0]["amount"] == 450000
    assert "refunded" in deliver_held(shop, sandbox.take_held() * 2)
    assert not owns(edge.db, user["id"], "lagos-grotesk")
    assert ledger.check(edge.db) == []
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == 0
    assert ledger.balance(edge, ledger.FEES, "NGN") == 0


def test_a_platform_code_costs_the_platform_never_the_seller(shop, sandbox):
    edge = edge_of(shop)
    discounts.create(edge, "WELCOME", amount=100000, currency="NGN")
    signed_in(shop)
    for slug in ("lagos-grotesk", "kente-template"):
        shop.post("/cart/add", data={"product": slug}, headers=SITE)
    assert 'name="code"' in shop.get("/cart").text  # the cart's Check out form takes a code
    order = pay_with_code(shop, sandbox, "cart=1", "welcome")
    assert order["amount"] == 1700000 - 100000
    lines = {r["product_slug"]: dict(r) for r in edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?",
                                                                   (order["id"],))}
    # 100000 split by the lines' prices (5 : 12): 29412 and 70588, largest remainder
    assert lines["lagos-grotesk"]["discount"] + lines["kente-template"]["discount"] == 100000
    assert lines["lagos-grotesk"]["discount"] == 29412
    for line in lines.values():
        assert line["fee"] == ledger.fee_split(line["amount"], 1000)[0]  # fee on what was paid
        assert ledger.seller_share(line) == ledger.fee_split(line["list_amount"], 1000)[1]  # as if full price
    assert ledger.check(edge.db) == []
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == -450000
    assert ledger.balance(edge, "seller:kofi:pending", "NGN") == -1080000
    subsidy = sum(line["subsidy"] for line in lines.values())
    assert ledger.balance(edge, ledger.DISCOUNTS, "NGN") == subsidy == 100000 - 10000  # less the fee not taken
    ada = ledger.seller_stats(edge, "ada")["NGN"]
    assert ada["net"] == ada["pending"] == 450000
    from checkout.payments import reports
    assert all(row["ok"] for row in reports.tie_out(edge.db))  # the reports still tie out to the ledger


def test_every_refusal_says_why_and_charges_nothing(shop, sandbox, clock):
    edge = edge_of(shop)
    discounts.create(edge, "OLD", percent="5", ends="2020-01-01")
    discounts.create(edge, "LATER", percent="5", starts="2999-01-01")
    discounts.create(edge, "KOFI5", percent="5", seller="kofi")
    discounts.create(edge, "USDONLY", amount=100, currency="USD")
    discounts.create(edge, "BIG", percent="5", min_order=10_000_000, currency="NGN")
    discounts.create(edge, "GONE", percent="5", max_uses=1)
    discounts.create(edge, "HUSH", percent="5")
    discounts.set_paused(edge, "hush")
    signed_in(shop)
    cases = {"NOPE": "There is no discount code NOPE", "OLD": "has expired", "LATER": "is not valid yet",
             "KOFI5": "does not apply to anything", "USDONLY": "is for orders in USD", "BIG": "needs an order of at least",
             "HUSH": "is paused", "bad code!": "is not a discount code"}
    for code, words in cases.items():
        page = shop.get("/buy", params={"product": "lagos-grotesk", "code": code})
        assert page.status_code == 422 and words in page.text, (code, page.text)
        assert 'id="code-error"' in page.text
    page = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk", "code": "old"})
    assert r.status_code == 422 and "has expired" in r.text
    # GONE: its only use is held by a pending order of another buyer, then taken
    other = make_buyer(edge, "other@example.com")

    orders.create_order(edge, other, [("kente-template", None)], code="gone")
    page = shop.get("/buy", params={"product": "lagos-grotesk", "code": "gone"})
    assert page.status_code == 422 and "has been used up" in page.text
    assert edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 1
    assert sandbox.box.transactions == {}


def test_the_buy_form_with_a_code_shows_the_discount_before_paying(shop, sandbox):
    edge = edge_of(shop)
    discounts.create(edge, "SAVE20", percent="20")
    signed_in(shop)
    r = shop.post("/checkout", data={"product": "kente-template", "code": "save20"}, headers=SITE)
    assert r.status_code == 303 and r.headers["location"] == "/buy?product=kente-template&code=SAVE20"
    page = shop.get(r.headers["location"])
    assert "<del>₦12,000</del> ₦9,600" in page.text
    assert edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0  # nothing created before Pay


def test_a_pay_what_you_want_line_keeps_its_minimum(shop, sandbox):
    edge = edge_of(shop)
    discounts.create(edge, "HALF", percent="90")
    signed_in(shop)
    page = shop.get("/buy", params={"product": "zine-kit", "amount": "6.00", "code": "half"})
    assert page.status_code == 200 and re.search(r'id="total">\$5(\.00)?<', page.text)


def test_uses_are_counted_when_the_order_is_paid_and_a_late_payment_is_flagged(shop, sandbox, clock):
    edge = edge_of(shop)
    discounts.create(edge, "ONCE", percent="10", max_uses=1)

    a, b = make_buyer(edge, "a@example.com"), make_buyer(edge, "b@example.com")
    first = orders.create_order(edge, a, [("lagos-grotesk", None)], code="once")
    clock.advance(60 * edge.settings.DISCOUNT_HOLD_MINUTES + 1)  # the hold lapses: another buyer may try
    second = orders.create_order(edge, b, [("lagos-grotesk", None)], code="once")
    for order in (first, second):
        orders.record_authorization(edge, order, orders.call_initialize(edge, order))
        sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid", "flagged"]
    flagged = orders.get_order(edge, second["reference"])
    assert flagged["status"] == "flagged" and "used up" in flagged["flag_reason"]
    assert not owns(edge.db, b["id"], "lagos-grotesk")
    assert edge.db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0] == 1
    assert ledger.check(edge.db) == []


hostile = st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                    st.text(alphabet=st.characters(categories=["Cc", "Zs", "So"]), min_size=1, max_size=50),
                    st.integers().map(str), st.just("A" * 2_000), st.just("save10\x00"), st.just("ＳＡＶＥ10"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=hostile, method=st.sampled_from(["get", "post", "checkout"]))
def test_any_code_field_gets_a_clear_answer_naming_the_field_and_changes_nothing(shop, sandbox, code, method):
    edge = edge_of(shop)
    if not edge.db.execute("SELECT 1 FROM discount_codes").fetchone():
        discounts.create(edge, "SAVE10", percent="10", max_uses=1)
        signed_in(shop)
    before = edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
    if method == "get":
        r = shop.get("/buy", params={"product": "lagos-grotesk", "code": code})
    elif method == "post":
        page = shop.get("/buy?product=lagos-grotesk")
        r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk", "code": code})
    else:
        r = shop.post("/checkout", data={"product": "lagos-grotesk", "code": code}, headers=SITE)
    assert r.status_code in (200, 303, 413, 422), r.status_code
    assert "Traceback" not in r.text
    if r.status_code == 422:
        assert 'id="code-error"' in r.text or "code" in r.text.lower()
    normal = code.strip().upper()
    if normal != "SAVE10":  # only the real code may discount anything
        assert edge.db.execute("SELECT COUNT(*) FROM orders WHERE discount_code_id IS NOT NULL").fetchone()[0] <= before
    assert edge.db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0] == 0
    assert ledger.check(edge.db) == []


def test_discount_commands_create_list_pause_and_name_bad_fields(tmp_path, catalog_path, monkeypatch):
    monkeypatch.setenv("DIGITALDOCK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CATALOG_PATH", str(catalog_path))
    runner = CliRunner()
    r = runner.invoke(discount, ["create", "summer25", "--percent", "25", "--seller", "ada", "--product", "lagos-grotesk",
                                 "--max-uses", "100", "--starts", "2026-06-01", "--ends", "2026-09-01"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["code"] == "SUMMER25"
    r = runner.invoke(discount, ["create", "FLAT", "--amount", "50000", "--currency", "NGN"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(discount, ["create", "SUMMER25", "--percent", "5", "--seller", "ada"])
    assert r.exit_code == 1 and "already a code SUMMER25 of ada" in r.output
    for args, words in ((["X!", "--percent", "5"], "not a discount code"),
                        (["OK2", "--percent", "150"], "percent"),
                        (["OK2", "--amount", "5"], "currency"),
                        (["OK2", "--percent", "5", "--amount", "5", "--currency", "NGN"], "not both"),
                        (["OK2", "--percent", "5", "--product", "nope"], "no product"),
                        (["OK2", "--percent", "5", "--seller", "kofi", "--product", "lagos-grotesk"], "not kofi's"),
                        (["OK2", "--percent", "5", "--ends", "tomorrow"], "ends"),
                        (["OK2", "--percent", "5", "--starts", "2026-02-01", "--ends", "2026-01-01"], "after the start")):
        r = runner.invoke(discount, ["create", *args])
        assert r.exit_code == 1 and words in r.output, (args, r.output)
    r = runner.invoke(discount, ["pause", "summer25", "--seller", "ada"])
    assert r.exit_code == 0 and "SUMMER25 paused" in r.output
    r = runner.invoke(discount, ["pause", "nothing"])
    assert r.exit_code == 1 and "no code NOTHING" in r.output
    r = runner.invoke(discount, ["list"])
    assert "SUMMER25" in r.output and "25% off" in r.output and "paused" in r.output and "0/100 uses" in r.output
    assert "FLAT" in r.output and "₦500 off" in r.output
    r = runner.invoke(discount, ["list", "--json", "--seller", "ada"])
    rows = [json.loads(line) for line in r.stdout.splitlines() if '"offer"' in line]
    assert [(x["code"], x["paused"], x["products"]) for x in rows] == [("SUMMER25", True, ["lagos-grotesk"])]
    r = runner.invoke(discount, ["resume", "SUMMER25", "--seller", "ada"])
    assert "resumed" in r.output


def test_a_huge_code_is_refused_naming_the_field(shop, sandbox):
    signed_in(shop)
    page = shop.get("/buy", params={"product": "lagos-grotesk", "code": "A" * 60_000})
    assert page.status_code in (413, 414, 422) and "Traceback" not in page.text
    page = shop.get("/buy?product=lagos-grotesk")
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk", "code": "A" * 100_000})
    assert r.status_code in (413, 422) and "Traceback" not in r.text
    if r.status_code == 422:
        assert 'id="code-error"' in r.text
    assert edge_of(shop).db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


def test_sellers_and_admins_manage_codes_in_their_consoles_with_reports(shop, sandbox):
    edge = edge_of(shop)
    from checkout.payments import payouts
    ada = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, ada["id"], "ada")
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/discounts")
    assert page.status_code == 200 and "No codes yet" in page.text
    assert "Kente Template" not in page.text  # only her products are offered
    form = {"csrf_token": csrf_from(page.text), "action": "create", "seller": "ada", "code": "ada15", "kind": "percent",
            "percent": "15", "product": "lagos-grotesk", "max_uses": "3"}
    r = shop.post("/seller/discounts", data=form)
    assert r.status_code == 303
    bad = shop.post("/seller/discounts", data={**form, "code": "x"})
    assert bad.status_code == 422 and 'id="code-error"' in bad.text
    bad = shop.post("/seller/discounts", data={**form, "code": "OTHER", "max_uses": "lots"})
    assert bad.status_code == 422 and 'id="max_uses-error"' in bad.text
    bad = shop.post("/seller/discounts", data={**form, "code": "OTHER", "kind": "amount", "amount": "5", "currency": ""})
    assert bad.status_code == 422 and 'id="currency-error"' in bad.text
    r = shop.post("/seller/discounts", data={**form, "seller": "kofi", "code": "KOFI1"})
    assert r.status_code == 403
    assert edge.db.execute("SELECT COUNT(*) FROM discount_codes").fetchone()[0] == 1
    # a buyer uses it; the console reports the use, the discount and the revenue
    shop.cookies.clear()
    signed_in(shop)
    pay_with_code(shop, sandbox, "product=lagos-grotesk", "ADA15")
    shop.cookies.clear()
    login(shop, "ada@example.com", PASSWORD)
    page = shop.get("/seller/discounts")
    row = page.text[page.text.find("ADA15"):]
    assert "1 / 3" in row and "₦750" in row and "₦4,250" in row
    r = shop.post("/seller/discounts", data={"csrf_token": csrf_from(page.text), "action": "pause", "seller": "ada",
                                             "code": "ada15"})
    assert r.status_code == 303 and "(paused)" in shop.get("/seller/discounts").text
    # the admin sees every code and creates platform codes
    as_admin(shop)
    page = shop.get("/admin/discounts")
    assert "ADA15" in page.text and "Kente Template" in page.text
    r = shop.post("/admin/discounts", data={"csrf_token": csrf_from(page.text), "action": "create", "seller": "",
                                            "code": "launch", "kind": "amount", "amount": "1000", "currency": "NGN",
                                            "min_order": "5000", "ends": "2030-01-01T00:00"})
    assert r.status_code == 303
    code = discounts.listing(edge, "")[0]
    assert (code["code_key"], code["amount"], code["min_order"], code["ends_at"]) == \
        ("LAUNCH", 100000, 500000, "2030-01-01T00:00:00+00:00")
    shop.cookies.clear()
    assert shop.get("/admin/discounts").status_code in (303, 401, 403)


def test_seed_makes_a_demo_code_and_affiliate_through_the_real_functions(tmp_path, catalog_path, monkeypatch):
    from checkout.cli.edge import seed
    monkeypatch.setenv("DIGITALDOCK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CATALOG_PATH", str(catalog_path))
    # no sandbox (port 9): a local stack's sandbox on the default port must not make demo sales here
    for name, value in {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "8", "ARGON2_PARALLELISM": "1",
                        "PAYSTACK_BASE_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(name, value)
    first = CliRunner().invoke(seed, [])
    assert first.exit_code == 0, first.output
    promos = [line for line in first.stdout.splitlines() if line.startswith("promo")]
    assert len(promos) == 2 and "WELCOME10" in promos[0] and "?via=" in promos[1]
    again = CliRunner().invoke(seed, [])
    assert [line for line in again.stdout.splitlines() if line.startswith("promo")] == promos  # kept, not doubled
