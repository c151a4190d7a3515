"""A flagged payment (wrong amount, or paid twice) is returned whole from /admin/orders:
recorded before Paystack is called, finished by Paystack's refund event, never twice, and
never touching the ledger, which never took that money in."""

from __future__ import annotations

from checkout.payments import ledger

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, deliver_held, make_buyer

SITE = {"origin": "http://127.0.0.1:8000"}


def edge_of(client):
    return client.app.state.edge


def flagged_order(shop, sandbox) -> tuple[str, int]:
    """A buyer pays, and Paystack reports another amount: the order is flagged."""
    edge = edge_of(shop)
    make_buyer(edge, "buyer@example.com")
    login(shop, "buyer@example.com", PASSWORD)
    shop.post("/cart/add", data={"product": "lagos-grotesk"}, headers=SITE)
    page = shop.get("/buy?cart=1")
    assert shop.post("/buy", data={"csrf_token": csrf_from(page.text), "cart": "1"}).status_code == 303
    order = edge.db.execute("SELECT id, reference FROM orders").fetchone()
    sandbox.pay(order["reference"])
    sandbox.faults(report_amount=100)  # verify reports NGN 100 for a NGN 5,000 payment
    assert 'data-status="flagged"' in shop.get(f"/checkout/callback?reference={order['reference']}").text
    sandbox.faults(report_amount=None)
    assert deliver_held(shop, sandbox.take_held()) == ["already_flagged"]  # the genuine webhook
    return order["reference"], order["id"]


def as_admin(shop):
    shop.cookies.clear()
    make_buyer(edge_of(shop), "admin@example.com", role="admin")
    login(shop, "admin@example.com", PASSWORD)


def test_a_flagged_payment_is_returned_whole_once(shop, sandbox):
    edge = edge_of(shop)
    reference, order_id = flagged_order(shop, sandbox)
    as_admin(shop)
    page = shop.get("/admin/orders?status=flagged")
    assert "Return the payment in full" in page.text and "Paystack reported NGN 100" in page.text
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/orders?status=flagged"
    assert "Paystack is returning the payment" in shop.get(r.headers["location"]).text  # the flash, shown once
    row = edge.db.execute("SELECT status, amount FROM flagged_refunds WHERE order_id = ?", (order_id,)).fetchone()
    assert (row["status"], row["amount"]) == ("processing", None)
    # a second press while Paystack works is refused, and asks Paystack for nothing
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 409
    outcomes = deliver_held(shop, sandbox.take_held())
    assert outcomes == ["refund_pending", "refund_processing", "flagged_refunded"]
    row = edge.db.execute("SELECT status, amount, currency FROM flagged_refunds WHERE order_id = ?",
                          (order_id,)).fetchone()
    assert (row["status"], row["amount"], row["currency"]) == ("processed", 500_000, "NGN")  # what was charged
    assert "Payment returned: ₦5,000" in shop.get("/admin/orders?status=flagged").text
    assert any("Lagos Grotesk" in m["text_body"] for m in outbox_rows(shop, "refund_processed"))
    # nothing was ever delivered or booked for this order, and nothing is now
    assert edge.db.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()[0] == "flagged"
    assert ledger.balances(edge) == {} and ledger.check(edge.db) == []
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 409 and "already processed" in r.text


def test_a_refund_paystack_refuses_can_be_tried_again(shop, sandbox):
    edge = edge_of(shop)
    reference, order_id = flagged_order(shop, sandbox)
    as_admin(shop)
    page = shop.get("/admin/orders?status=flagged")
    sandbox.faults(refund_outcome="failed")  # accepted, then reported failed by event
    shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert deliver_held(shop, sandbox.take_held()) == ["refund_pending", "refund_processing", "refund_failed"]
    page = shop.get("/admin/orders?status=flagged")
    assert "Last attempt failed: Paystack: refund failed" in page.text
    sandbox.faults(refund_outcome="processed", fail_api=1)  # this time the call itself fails
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert "Paystack refused the refund" in shop.get(r.headers["location"]).text
    assert edge.db.execute("SELECT status FROM flagged_refunds").fetchone()[0] == "failed"
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert "Paystack is returning the payment" in shop.get(r.headers["location"]).text
    # refund.pending/processing look like the first attempt's (duplicates); refund.processed completes it
    assert deliver_held(shop, sandbox.take_held()) == ["duplicate", "duplicate", "flagged_refunded"]
    assert ledger.check(edge.db) == []


def test_only_flagged_orders_are_returned_from_the_orders_page(shop, sandbox):
    edge = edge_of(shop)
    make_buyer(edge, "buyer@example.com")
    login(shop, "buyer@example.com", PASSWORD)
    shop.post("/cart/add", data={"product": "lagos-grotesk"}, headers=SITE)
    page = shop.get("/buy?cart=1")
    shop.post("/buy", data={"csrf_token": csrf_from(page.text), "cart": "1"})
    order_id = edge.db.execute("SELECT id FROM orders").fetchone()[0]
    as_admin(shop)
    page = shop.get("/admin/payouts")  # a page with a form, for the session's CSRF token
    r = shop.post(f"/admin/orders/{order_id}/return-payment", data={"csrf_token": csrf_from(page.text)})
    assert r.status_code == 409 and "Only a flagged order" in r.text
    assert shop.post("/admin/orders/999/return-payment", data={"csrf_token": csrf_from(page.text)}).status_code == 404
    assert edge.db.execute("SELECT COUNT(*) FROM flagged_refunds").fetchone()[0] == 0
