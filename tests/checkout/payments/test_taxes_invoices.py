"""Taxes and invoices (issue #18): an EU buyer pays VAT at their country's rate, the tax sits in
its own ledger account, refunds return it exactly with a credit note, invoice numbers have no
gaps under a burst of payments, and the card country is cross-checked."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from checkout.payments import invoices, ledger, orders, refunds
from checkout.sandbox import DEFAULT_SECRET, sign

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, deliver, deliver_held, make_buyer

SITE = {"origin": "http://127.0.0.1:8000"}
RATES = str(Path(__file__).resolve().parents[3] / "content" / "tax_rates.yml")


def edge_of(client):
    return client.app.state.edge


@pytest.fixture
def taxed(make_client, sandbox):
    """An edge on the sandbox with the repository's tax rates, prices excluding tax."""
    return make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, TAX_RATES_PATH=RATES)


def buy_from(client, sandbox, country: str | None, email="buyer@example.com", product="lagos-grotesk", **form):
    edge = edge_of(client)
    user = make_buyer(edge, email)
    login(client, email, PASSWORD)
    r = client.post("/checkout", data={"product": product, **({"country": country} if country else {}), **form},
                    headers=SITE)
    assert r.status_code == 303, r.text
    order = dict(edge.db.execute("SELECT * FROM orders ORDER BY id DESC").fetchone())
    sandbox.pay(order["reference"])
    assert deliver_held(client, sandbox.take_held()) == ["paid"]
    return user, orders.get_order(edge, order["reference"])


def test_an_eu_buyer_pays_vat_at_their_rate_booked_apart_from_fees_and_seller(taxed, sandbox):
    edge = edge_of(taxed)
    user, order = buy_from(taxed, sandbox, "DE", vat_id="de 123.456.789")
    # NGN 5,000 + 19 % German VAT on top (prices exclude tax by default)
    assert (order["amount"], order["tax_country"], order["vat_id"]) == (595000, "DE", "DE123456789")
    assert sandbox.box.transactions[order["reference"]]["amount"] == 595000
    line = edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()
    assert (line["amount"], line["tax"], line["tax_bps"], line["fee"], line["net"]) == (500000, 95000, 1900, 50000, 450000)
    assert ledger.balance(edge, "tax:DE:payable", "NGN") == -95000
    assert ledger.balance(edge, "platform:fees", "NGN") == -50000  # the fee is cut from the price, not the tax
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == -450000
    assert ledger.check(edge.db) == []
    # the invoice: numbered, with the buyer's country and VAT id, lines, tax and totals
    number = f"INV-{order['paid_at'][:4]}-000001"
    receipt = outbox_rows(taxed, "receipt")[0]["text_body"]
    assert number in receipt and "Tax included: ₦950" in receipt and "₦5,950" in receipt
    page = taxed.get(f"/invoices/{number}")
    assert page.status_code == 200
    assert "Germany (DE)" in page.text and "DE123456789" in page.text and "₦950" in page.text and "(19%)" in page.text
    assert f"/invoices/{number}" in taxed.get("/orders").text
    pdf = taxed.get(f"/invoices/{number}.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert number in text and "NGN 950.00" in text and "NGN 5950.00" in text and "DE123456789" in text
    # the thank-you page states the tax
    assert "Tax ₦950" in taxed.get(f"/checkout/callback?reference={order['reference']}").text


def test_another_buyer_cannot_read_an_invoice(taxed, sandbox):
    _, order = buy_from(taxed, sandbox, "FR")
    number = f"INV-{order['paid_at'][:4]}-000001"
    taxed.cookies.clear()
    make_buyer(edge_of(taxed), "eve@example.com")
    login(taxed, "eve@example.com", PASSWORD)
    assert taxed.get(f"/invoices/{number}").status_code == 404
    assert taxed.get(f"/invoices/{number}.pdf").status_code == 404
    assert taxed.get("/invoices/INV-2026-0000000000001").status_code == 404
    assert taxed.get("/invoices/nonsense").status_code == 404


def test_prices_including_tax_take_the_tax_out_of_the_price(make_client, sandbox):
    client = make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, TAX_RATES_PATH=RATES,
                         PRICES_INCLUDE_TAX=True)
    edge = edge_of(client)
    _, order = buy_from(client, sandbox, "NL")
    line = edge.db.execute("SELECT * FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()
    # NGN 5,000 including 21 %: 4,132.23 + 867.77
    assert (order["amount"], line["amount"], line["tax"]) == (500000, 413223, 86777)
    assert line["fee"] + line["net"] == 413223
    assert ledger.balance(edge, "tax:NL:payable", "NGN") == -86777
    assert ledger.check(edge.db) == []
    assert "Prices include tax" in client.get("/buy?product=lagos-grotesk").text


def test_a_country_without_tax_and_no_country_pay_the_price(taxed, sandbox):
    _, order = buy_from(taxed, sandbox, "NG")
    assert order["amount"] == 500000
    _, order = buy_from(taxed, sandbox, None, email="other@example.com", product="kente-template")
    assert order["amount"] == 1200000
    assert ledger.check(edge_of(taxed).db) == []
    assert "Prices exclude tax" in taxed.get("/buy?product=lagos-grotesk").text


def test_a_refund_returns_the_tax_exactly_and_issues_a_credit_note(taxed, sandbox):
    edge = edge_of(taxed)
    user, order = buy_from(taxed, sandbox, "SE")  # 25 %
    line = edge.db.execute("SELECT id FROM order_lines WHERE order_id = ?", (order["id"],)).fetchone()[0]
    rid = refunds.request_refund(edge, user, line, "The files will not open")
    assert refunds.decide_refund(edge, rid, user["id"], approve=True) == "processing"
    assert refunds.send_refund(edge, rid) == "processing"
    assert sandbox.box.refunds[-1]["amount"] == 625000  # the buyer gets the tax back too
    assert deliver_held(taxed, sandbox.take_held())[-1] == "refunded"
    assert ledger.balance(edge, "tax:SE:payable", "NGN") == 0
    assert ledger.balance(edge, "seller:ada:pending", "NGN") == 0
    assert ledger.check(edge.db) == []
    year = order["paid_at"][:4]
    assert [x["number"] for x in invoices.of_order(edge, order["id"])] == [f"INV-{year}-000001", f"CN-{year}-000001"]
    note = taxed.get(f"/invoices/CN-{year}-000001")
    assert "Credit note" in note.text and f"INV-{year}-000001" in note.text and "-₦1,250" in note.text
    assert "-₦6,250" in note.text


def test_a_card_from_another_country_is_flagged_not_blocked(taxed, sandbox, make_client):
    sandbox.faults(card_country="GH")
    edge = edge_of(taxed)
    user, order = buy_from(taxed, sandbox, "DE")
    assert order["status"] == "paid"
    assert (order["card_country"], order["country_mismatch"]) == ("GH", "The buyer chose DE; Paystack reports a card from GH.")
    sandbox.faults(card_country="FR")
    _, other = buy_from(taxed, sandbox, None, email="nocountry@example.com", product="kente-template")
    assert "chose no country" in other["country_mismatch"]
    taxed.cookies.clear()
    make_buyer(edge, "admin@example.com", role="admin")
    login(taxed, "admin@example.com", PASSWORD)
    page = taxed.get("/admin/reports/taxes")
    assert page.status_code == 200
    assert order["reference"] in page.text and 'data-country="DE"' in page.text and "₦950" in page.text
    csv = taxed.get("/admin/reports/taxes?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("country,name,currency") and "DE,Germany,NGN,1,5000.00,950.00,0.00,950.00" in rows
    assert taxed.get("/admin/reports/taxes?from=2026-13-01").status_code == 422


def test_a_country_not_in_the_list_or_a_bad_vat_id_is_refused_naming_the_field(taxed):
    make_buyer(edge_of(taxed), "buyer@example.com")
    login(taxed, "buyer@example.com", PASSWORD)
    r = taxed.post("/checkout", data={"product": "lagos-grotesk", "country": "XX"}, headers=SITE)
    assert r.status_code == 422 and "country" in r.text
    page = taxed.get("/buy?product=lagos-grotesk")
    assert '<option value="DE">Germany (VAT 19%)</option>' in page.text
    r = taxed.post("/buy", data={"csrf_token": csrf_from(page.text), "product": "lagos-grotesk", "country": "DE",
                                 "vat_id": "<script>"})
    assert r.status_code == 422 and "VAT number" in r.text
    assert edge_of(taxed).db.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 0


def _charge(order: dict, amount: int | None = None) -> bytes:
    return json.dumps({"event": "charge.success", "data": {
        "id": order["id"], "status": "success", "reference": order["reference"],
        "amount": order["amount"] if amount is None else amount, "currency": order["currency"], "fees": 1500,
        "paid_at": "2026-11-27T10:00:00.000Z", "customer": {"email": order["email"]},
        "authorization": {"country_code": "DE"}}}).encode()


def test_invoice_numbers_have_no_gaps_under_twenty_concurrent_checkouts(make_client):
    client = make_client(TAX_RATES_PATH=RATES)
    edge = edge_of(client)
    placed = [orders.create_order(edge, make_buyer(edge, f"b{n}@example.com"), [("lagos-grotesk", None)],
                                  country="DE") for n in range(20)]
    # one of them is paid the wrong amount: flagged, it takes no number
    bodies = [_charge(o, 1 if n == 7 else None) for n, o in enumerate(placed)]

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.post(
                "/webhooks/paystack", content=body,
                headers={"content-type": "application/json", "x-paystack-signature": sign(DEFAULT_SECRET, body)})
                for body in bodies))
    outcomes = [r.json().get("outcome") for r in asyncio.run(run())]
    assert outcomes.count("paid") == 19 and outcomes.count("flagged") == 1
    numbers = sorted(r[0] for r in edge.db.execute("SELECT number FROM invoices WHERE kind = 'invoice'"))
    assert numbers == list(range(1, 20))
    assert invoices.series_gaps(edge) == [] and ledger.check(edge.db) == []
    assert ledger.balance(edge, "tax:DE:payable", "NGN") == -19 * 95000


def test_a_refund_made_in_paystacks_dashboard_returns_the_tax_with_a_credit_note(taxed, sandbox):
    edge = edge_of(taxed)
    _, order = buy_from(taxed, sandbox, "DE")
    body = {"event": "refund.processed", "data": {
        "status": "processed", "transaction_reference": order["reference"], "refund_reference": "RFD-1",
        "amount": str(order["amount"]), "currency": "NGN"}}
    assert deliver(taxed, body).json()["outcome"] == "dashboard_refunded"
    assert ledger.balance(edge, "tax:DE:payable", "NGN") == 0 and ledger.check(edge.db) == []
    assert [x["kind"] for x in invoices.of_order(edge, order["id"])] == ["invoice", "credit_note"]
