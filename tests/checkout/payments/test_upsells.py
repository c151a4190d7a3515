"""Upsells: the checkout page offers the seller's chosen product (here half price), one click
adds it to the same payment, the price is the catalogue's checked again when the order is made,
a discount code does not stack on it, and an offer that is not there is refused naming `add`."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.cli.promotions import upsell
from checkout.payments import discounts, ledger, upsells

from ..conftest import csrf_from, login
from .conftest import PASSWORD, deliver_held, make_buyer


def edge_of(client):
    return client.app.state.edge


def test_one_click_adds_the_offer_to_the_same_payment(shop, sandbox):
    edge = edge_of(shop)
    upsells.set_offer(edge, "kente-template", "odd-pennies", "50", seller="kofi")
    make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    page = shop.get("/buy?product=kente-template")
    assert 'id="offer"' in page.text and "Add Odd Pennies" in page.text and "<del>₦77.77</del>" in page.text
    page = shop.get("/buy?product=kente-template&add=odd-pennies")
    assert page.status_code == 200 and 'id="offer"' not in page.text
    assert re.search(r'id="total">₦12,038\.88<', page.text)  # 12,000 + 77.77 − 38.89 (half, rounded half up)
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "kente-template", "add": "odd-pennies"})
    assert r.status_code == 303 and r.headers["location"].startswith(sandbox.url)  # one payment page
    order = dict(edge.db.execute("SELECT * FROM orders").fetchone())
    assert order["amount"] == 1200000 + 7777 - 3889
    lines = {r["product_slug"]: dict(r) for r in edge.db.execute("SELECT * FROM order_lines")}
    assert (lines["odd-pennies"]["list_amount"], lines["odd-pennies"]["discount"], lines["odd-pennies"]["subsidy"]) == \
        (7777, 3889, 0)  # the seller's offer, the seller's discount
    sandbox.pay(order["reference"])
    assert deliver_held(shop, sandbox.take_held()) == ["paid"]
    assert ledger.check(edge.db) == []
    # owned now: the offer is not made again
    discounts_page = shop.get("/buy?product=kente-template")
    assert 'id="offer"' not in discounts_page.text


def test_a_code_does_not_stack_on_the_offer_and_a_bad_add_is_named(shop, sandbox):
    edge = edge_of(shop)
    upsells.set_offer(edge, "kente-template", "odd-pennies", "50")
    discounts.create(edge, "TEN", percent="10")
    make_buyer(edge)
    login(shop, "buyer@example.com", PASSWORD)
    page = shop.get("/buy?product=kente-template&add=odd-pennies&code=ten")
    assert page.status_code == 200 and 'id="discount">−₦1,238.89<' in page.text  # the offer's half + 10% of kente only
    page = shop.get("/buy?product=kente-template&add=lagos-grotesk")
    assert page.status_code == 422 and 'id="add-error"' in page.text or "not offered" in page.text
    r = shop.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "kente-template", "add": "zine-kit"})
    assert r.status_code == 422 and edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(add=st.one_of(st.text(max_size=80), st.sampled_from(["odd-pennies", "lagos-grotesk", "A" * 3000])))
def test_any_add_value_is_offered_or_refused_naming_it(shop, sandbox, add):
    edge = edge_of(shop)
    if not upsells.offers(edge):
        upsells.set_offer(edge, "kente-template", "odd-pennies")
    r = shop.get("/buy", params={"product": "kente-template", "add": add})
    assert r.status_code in (200, 422) and "Traceback" not in r.text
    assert (r.status_code == 200) == (add in ("", "odd-pennies"))


def test_offers_are_checked_and_managed_by_command(tmp_path, catalog_path, monkeypatch, shop):
    edge = edge_of(shop)
    for args, field in ((("kente-template", "lagos-grotesk"), "offer"), (("kente-template", "kente-template"), "offer"),
                        (("nope", "odd-pennies"), "product"), (("lagos-grotesk", "zine-kit", "10"), "percent"),
                        (("kente-template", "odd-pennies", "100"), "percent")):
        try:
            upsells.set_offer(edge, *args)
        except Exception as exc:  # noqa: BLE001 - a ValidationFailed naming the field
            assert field in exc.fields, (args, exc.fields)
        else:
            raise AssertionError(args)
    monkeypatch.setenv("DIGITALDOCK_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.setenv("CATALOG_PATH", str(catalog_path))
    runner = CliRunner()
    r = runner.invoke(upsell, ["set", "odd-pennies", "kente-template", "--percent", "5"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in runner.invoke(upsell, ["list"]).stdout.splitlines() if "offer_slug" in x]
    assert rows == [{"product_slug": "odd-pennies", "seller": "kofi", "offer_slug": "kente-template", "percent_bps": 500}]
    assert runner.invoke(upsell, ["remove", "odd-pennies"]).exit_code == 0
    r = runner.invoke(upsell, ["remove", "odd-pennies"])
    assert r.exit_code == 1 and "no offer" in r.output


def test_a_seller_sets_and_removes_an_offer_in_the_console(shop, sandbox):
    from checkout.payments import payouts
    edge = edge_of(shop)
    kofi = make_buyer(edge, "kofi@example.com", role="seller")
    payouts.link_seller(edge, kofi["id"], "kofi")
    login(shop, "kofi@example.com", PASSWORD)
    page = shop.get("/seller/discounts")
    assert "No offers yet" in page.text
    form = {"csrf_token": csrf_from(page.text), "action": "offer", "seller": "kofi", "product": "kente-template",
            "offer": "odd-pennies", "percent": "25"}
    assert shop.post("/seller/discounts", data=form).status_code == 303
    assert upsells.offers(edge, "kofi")[0]["percent_bps"] == 2500
    bad = shop.post("/seller/discounts", data={**form, "offer": "lagos-grotesk"})
    assert bad.status_code == 422 and 'id="offer-error"' in bad.text
    assert shop.post("/seller/discounts", data={**form, "seller": "ada"}).status_code == 403
    assert shop.post("/seller/discounts", data={**form, "offer": ""}).status_code == 303
    assert upsells.offers(edge, "kofi") == []


def test_often_bought_together_is_exported_only_for_pairs_several_buyers_own(shop, tmp_path, catalog_path,
                                                                            monkeypatch):
    edge = edge_of(shop)
    now = edge.clock.iso()
    for i in range(4):  # four buyers own kente and odd-pennies; one also owns lagos-grotesk
        buyer = make_buyer(edge, f"b{i}@example.com")
        slugs = ["kente-template", "odd-pennies"] + (["lagos-grotesk"] if i == 0 else [])
        cur = edge.db.execute("INSERT INTO orders (reference, user_id, email, currency, amount, status, catalog_hash,"
                              " created_at, updated_at) VALUES (?,?,?, 'NGN', 1, 'paid', 'x', ?, ?)",
                              (f"ref{i}", buyer["id"], buyer["email"], now, now))
        for slug in slugs:
            line = edge.db.execute("INSERT INTO order_lines (order_id, product_slug, seller, title, amount, currency,"
                                   " fee_bps, fee, net) VALUES (?,?, 'x', 'x', 1, 'NGN', 0, 0, 1)",
                                   (cur.lastrowid, slug)).lastrowid
            edge.db.execute("INSERT INTO purchases (user_id, order_id, order_line_id, product_slug, seller, status,"
                            " created_at) VALUES (?,?,?,?, 'x', 'active', ?)", (buyer["id"], cur.lastrowid, line, slug, now))
    assert upsells.bought_together(edge) == {"kente-template": ["odd-pennies"], "odd-pennies": ["kente-template"]}
    assert upsells.bought_together(edge, min_buyers=1)["lagos-grotesk"] == ["kente-template", "odd-pennies"]
    monkeypatch.setenv("DIGITALDOCK_DATA_DIR", str(edge.settings.data_dir))
    monkeypatch.setenv("CATALOG_PATH", str(catalog_path))
    target = tmp_path / "together.yml"
    r = CliRunner().invoke(upsell, ["together", "--output", str(target)])
    assert r.exit_code == 0, r.output
    from digitaldock.schema import parse_together
    parsed, problems = parse_together("together.yml", target.read_text())
    assert problems == [] and parsed == {"kente-template": ("odd-pennies",), "odd-pennies": ("kente-template",)}
