"""Property tests of discount codes and affiliate commissions over random carts, codes, fee
rates and commissions: the split adds up exactly and keeps every floor; the amount sent to
Paystack equals what the ledger's accounts receive; the platform fee is exactly the configured
share of what was paid; a platform code never costs the seller; a commission comes only from
the referred seller's share; refunding every line brings every account back to zero. With tax
(issue #18) in the same run: the tax step comes after the discount, whatever the buyer's country
and whether prices include tax, the fee, subsidy and commission are cut from the taxable amount,
the tax is booked to `tax:<COUNTRY>:payable` in the sale journal and a refund returns it exactly.
And the race:
20 buyers for a code with 5 uses left, each on its own connection; exactly 5 get it."""

from __future__ import annotations

import json
import tempfile
import threading
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.errors import EdgeError
from checkout.core.settings import load_settings
from checkout.payments import affiliates, discounts, events, ledger, orders, refunds, taxes
from checkout.payments.pricing import percent_of, split_discount, tax_split
from checkout.wiring import build_edge

from .test_property import World

SLUGS = ("lagos-grotesk", "kente-template", "odd-pennies")
RATES = str(Path(__file__).resolve().parents[3] / "content" / "tax_rates.yml")
COUNTRIES = {None: 0, "NG": 0, "DE": 1900, "HU": 2700, "FR": 2000}  # as content/tax_rates.yml says


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 10**9), st.integers(0, 10**9)), min_size=1, max_size=8),
       st.integers(0, 10**10))
def test_the_split_adds_up_exactly_and_keeps_every_floor(lines, wanted):
    amounts = [a for a, _ in lines]
    floors = [min(f, a) for a, f in lines]
    shares = split_discount(amounts, floors, wanted)
    room = sum(a - f for a, f in zip(amounts, floors, strict=True))
    assert sum(shares) == min(wanted, room)
    assert all(0 <= s <= a - f for s, a, f in zip(shares, amounts, floors, strict=True))


def test_the_split_is_proportional_with_the_largest_remainder():
    assert split_discount([500000, 1200000], [1, 1], 100000) == [29412, 70588]
    assert split_discount([1, 1, 1], [0, 0, 0], 2) == [1, 1, 0]  # ties: the earlier line
    assert split_discount([1000, 100], [900, 1], 500) == [100, 99]  # a floor moves the rest on
    assert percent_of(7777, 1250) == 972


code_st = st.fixed_dictionaries({
    "seller": st.sampled_from(["", "ada", "kofi"]),
    "kind": st.sampled_from(["percent", "amount"]),
    "percent": st.integers(1, 10000),
    "amount": st.integers(1, 2_000_000),
    "products": st.sets(st.sampled_from(SLUGS), max_size=2),
})


def _receive(edge, event: str, data: dict) -> str:
    return events.receive_event(edge, json.dumps({"event": event, "data": data}).encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code_st, st.sets(st.sampled_from(SLUGS), min_size=1, max_size=3), st.sampled_from([0, 500, 1000, 2500, 10000]),
       st.booleans(), st.sampled_from(["ada", "kofi"]), st.integers(1, 10000), st.sampled_from(sorted(COUNTRIES, key=str)),
       st.booleans())
def test_paystack_gets_what_the_ledger_books_and_refunds_undo_it(code, cart, kofi_bps, redeliver, referrer,
                                                                 commission_bps, country, included):
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp), TAX_RATES_PATH=RATES, PRICES_INCLUDE_TAX=included)
        edge = w.edge
        try:
            edge.db.execute("INSERT INTO seller_accounts (user_id, seller_slug, fee_bps, created_at) VALUES (1, 'kofi', ?, ?)",
                            (kofi_bps, w.clock.iso()))
            products = [p for p in code["products"] if not code["seller"]
                        or edge.catalog.current().products[p].seller == code["seller"]]
            discounts.create(edge, "PROMO", seller=code["seller"], products=products,
                             **({"percent": f"{code['percent'] // 100}.{code['percent'] % 100:02d}"}
                                if code["kind"] == "percent" else {"amount": code["amount"], "currency": "NGN"}))
            buyer = w.user(0)
            affiliates.invite(edge, referrer, w.user(1)["email"], f"{commission_bps // 100}.{commission_bps % 100:02d}",
                              code="REF")
            items = [(s, None) for s in sorted(cart)]
            try:
                order = orders.create_order(edge, buyer, items, code="promo", via="REF", country=country)
            except EdgeError as exc:  # the code does not apply to this cart: said, nothing created
                assert exc.fields.get("code")
                assert edge.db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0
                return
            lines = orders.order_lines(edge, order["id"])
            charged = {"reference": order["reference"], "status": "success", "amount": order["amount"],
                       "currency": "NGN", "id": 1, "fees": 0}
            assert _receive(edge, "charge.success", charged) == "paid"
            if redeliver:
                assert _receive(edge, "charge.success", charged) == "duplicate"
            assert ledger.check(edge.db) == []
            sale = [e for e in ledger.journals_for(edge, order["id"]) if e["kind"] == "sale"]
            # what Paystack takes is what the accounts other than Paystack's receive
            assert order["amount"] == -sum(e["amount"] for e in sale if e["account"] != ledger.RECEIVABLE)
            # the buyer pays the taxable amounts plus their tax; the tax is the buyer's country's
            assert order["amount"] == sum(line["amount"] + line["tax"] for line in lines) > 0
            assert sum(e["amount"] for e in sale if e["account"] == taxes.tax_account(country)) == \
                -sum(line["tax"] for line in lines)
            assert edge.db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0] == 1
            bps = COUNTRIES[country]
            for line in lines:
                # the tax step comes last: on the discounted price (the catalogue's terms: with the
                # tax in it when prices include tax)
                price = line["amount"] + (line["tax"] if included else 0)
                assert line["tax_bps"] == bps
                assert (line["amount"], line["tax"]) == tax_split(price, bps, included)
                list_amount = line["list_amount"] or price
                assert price + line["discount"] == list_amount
                assert line["fee"] == ledger.fee_split(line["amount"], line["fee_bps"])[0]
                if code["seller"] or not line["discount"]:
                    assert line["subsidy"] == 0
                else:  # a platform code: the seller gets what the full price gives (before a commission)
                    list_base = tax_split(list_amount, bps, included)[0]
                    assert ledger.seller_share(line) + line["commission"] == \
                        ledger.fee_split(list_base, line["fee_bps"])[1]
                # an affiliate's commission: only on the referrer's lines, from the seller's share
                if line["seller"] == referrer:
                    assert line["commission"] == min(line["net"] + line["subsidy"],
                                                     (line["amount"] * commission_bps + 5000) // 10000)
                else:
                    assert line["commission"] == 0 and line["affiliate_id"] is None
                assert ledger.seller_share(line) >= 0
            for line in lines:
                rid = refunds.request_refund(edge, buyer, line["id"], "does not open")
                refunds.decide_refund(edge, rid, buyer["id"], approve=True)
                data = {"status": "processed", "transaction_reference": order["reference"],
                        "refund_reference": f"RF{rid}", "amount": str(line["amount"] + line["tax"]),
                        "currency": "NGN"}
                assert _receive(edge, "refund.processed", data) == "refunded"
            assert ledger.check(edge.db) == []
            credit_notes = edge.db.execute("SELECT COUNT(*) FROM invoices WHERE kind = 'credit_note'").fetchone()[0]
            assert credit_notes == len(lines)
            balances = ledger.balances(edge)  # tax accounts included: the refunds returned the tax exactly
            assert all(v == 0 for (account, _), v in balances.items() if account != ledger.COSTS), balances
        finally:
            edge.close()


def test_twenty_buyers_race_for_five_uses_and_exactly_five_get_it(tmp_path):
    """Each buyer on its own connection to one database file, as several edge processes would be."""
    w = World(tmp_path)
    try:
        discounts.create(w.edge, "LAST5", percent="50", max_uses=5)
        with w.edge.db.conn:
            for i in range(20):
                w.edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at,"
                                  " email_verified_at) VALUES (?, ?, 'x', 'buyer', ?, ?)",
                                  (f"racer{i}@example.com", f"R{i}", w.clock.iso(), w.clock.iso()))
        s = load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(tmp_path / "data"),
                          CATALOG_PATH=str(tmp_path / "catalog.json"), CONTENT_DIR=str(tmp_path / "content"))
        start, results, lock = threading.Barrier(20), [], threading.Lock()

        def buy(i: int) -> None:
            edge = build_edge(s, w.clock)
            try:
                user = dict(edge.db.execute("SELECT * FROM users WHERE email = ?", (f"racer{i}@example.com",)).fetchone())
                start.wait()
                try:
                    order = orders.create_order(edge, user, [("lagos-grotesk", None)], code="last5")
                    outcome = order["reference"]
                except EdgeError as exc:
                    outcome = exc.message
            finally:
                edge.close()
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=buy, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        placed = [r for r in results if r.startswith("dd-")]
        assert len(placed) == 5
        assert all("has been used up" in r for r in results if not r.startswith("dd-"))
        for ref in placed:  # every one of the five pays; each is fulfilled with its discount
            order = orders.get_order(w.edge, ref)
            assert _receive(w.edge, "charge.success", {"reference": ref, "status": "success", "id": 1, "fees": 0,
                                                       "amount": order["amount"], "currency": "NGN"}) == "paid"
        assert w.edge.db.execute("SELECT COUNT(*) FROM discount_uses").fetchone()[0] == 5
        assert ledger.check(w.edge.db) == []
    finally:
        w.edge.close()
