"""Refunds that tell everyone (#15): the buyer's request is confirmed by email, the seller is
emailed and decides from their dashboard within the refund window, an admin decides any,
declining needs a reason the buyer sees, and every step is on the buyer's orders page and in
the audit log."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.payments import payouts, refunds

from ..conftest import csrf_from, login, outbox_rows
from .conftest import PASSWORD, deliver_held, make_buyer
from .test_refunds_payouts import as_admin, edge_of, paid_purchase


def requested(shop, sandbox, reason="The font files will not open"):
    """Ada (a seller account) sold Lagos Grotesk to the buyer, who asks for a refund."""
    edge = edge_of(shop)
    ada = make_buyer(edge, "ada@example.com", role="seller")
    payouts.link_seller(edge, ada["id"], "ada")
    user, ref = paid_purchase(shop, sandbox)
    page = shop.get("/orders")
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    r = shop.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line, "reason": reason})
    assert r.status_code == 303
    return user, ref, edge.db.execute("SELECT id FROM refunds").fetchone()[0]


def as_seller(shop, email="ada@example.com"):
    shop.cookies.clear()
    login(shop, email, PASSWORD)


def as_buyer(shop):
    shop.cookies.clear()
    login(shop, "buyer@example.com", PASSWORD)


def token(shop):
    """The signed-in browser's CSRF token (a page without a form of its own carries none)."""
    return csrf_from(shop.get("/account").text)


def audit_actions(shop):
    return [(r["action"], json.loads(r["detail"])) for r in
            edge_of(shop).db.execute("SELECT action, detail FROM audit_log WHERE action LIKE 'payment.refund%'"
                                     " ORDER BY id")]


def test_request_then_seller_approval_then_refund_tells_everyone(shop, sandbox):
    user, ref, rid = requested(shop, sandbox)
    [confirm] = outbox_rows(shop, "refund_received")
    assert confirm["to_addr"] == "buyer@example.com" and "will not open" in confirm["text_body"] and ref in confirm["text_body"]
    [told] = outbox_rows(shop, "refund_requested")
    assert told["to_addr"] == "ada@example.com" and "/seller/refunds" in told["text_body"]
    as_seller(shop)
    page = shop.get("/seller/refunds")
    assert page.status_code == 200 and "will not open" in page.text and "Approve refund" in page.text
    r = shop.post("/seller/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "approve"})
    assert r.status_code == 303 and "approved" in shop.get("/seller/refunds").text
    assert sandbox.box.refunds[0]["amount"] == 500000  # Paystack was asked, as after an admin's approval
    [approved] = outbox_rows(shop, "refund_approved")
    assert approved["to_addr"] == "buyer@example.com"
    # Paystack tells refund.pending, refund.processing, then refund.processed (issue #19 records each state)
    assert deliver_held(shop, sandbox.take_held())[-1] == "refunded"
    assert len(outbox_rows(shop, "refund_processed")) == 1
    as_buyer(shop)
    orders = shop.get("/orders").text
    for text in ("Refund refunded", "You asked for a refund: The font files will not open",
                 "Approved by the seller", "Refunded to your payment method"):
        assert text in orders, text
    actions = audit_actions(shop)
    assert [a for a, _ in actions] == ["payment.refund_requested", "payment.refund_decided",
                                       "payment.refund_processed"]
    assert actions[1][1]["decided_as"] == "seller" and actions[1][1]["approved"] is True


def test_declining_needs_a_reason_the_buyer_sees(shop, sandbox):
    user, ref, rid = requested(shop, sandbox)
    as_seller(shop)
    page = shop.get("/seller/refunds")
    r = shop.post("/seller/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "decline"})
    assert r.status_code == 303 and "Tell the buyer why" in shop.get("/seller/refunds").text
    assert edge_of(shop).db.execute("SELECT status FROM refunds").fetchone()[0] == "requested"
    r = shop.post("/seller/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "decline",
                                           "note": "The archive opens with 7-Zip; see the readme."})
    assert r.status_code == 303
    [declined] = outbox_rows(shop, "refund_declined")
    assert "opens with 7-Zip" in declined["text_body"] and declined["to_addr"] == "buyer@example.com"
    as_buyer(shop)
    orders = shop.get("/orders").text
    assert "Refund declined" in orders and "Declined by the seller: The archive opens with 7-Zip" in orders
    assert sandbox.box.refunds == []


def test_after_the_window_only_an_admin_decides(shop, sandbox, clock):
    user, ref, rid = requested(shop, sandbox)
    clock.advance(8 * 86400)
    as_seller(shop)
    page = shop.get("/seller/refunds")
    assert "An administrator decides" in page.text and "Approve refund" not in page.text
    r = shop.post("/seller/refunds", data={"csrf_token": token(shop), "refund": rid, "action": "approve"})
    assert r.status_code == 409 and "administrator" in r.text
    as_admin(shop)
    page = shop.get("/admin/refunds")
    r = shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "reject"})
    assert r.status_code == 303 and edge_of(shop).db.execute("SELECT status FROM refunds").fetchone()[0] == "requested"
    shop.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "reject",
                                      "note": "Past the refund window."})
    row = edge_of(shop).db.execute("SELECT status, decided_as, decision_note FROM refunds").fetchone()
    assert tuple(row) == ("rejected", "admin", "Past the refund window.")
    as_buyer(shop)
    assert "Declined by DigitalDock: Past the refund window." in shop.get("/orders").text


def test_another_seller_cannot_decide_it(shop, sandbox):
    edge = edge_of(shop)
    user, ref, rid = requested(shop, sandbox)
    kofi = make_buyer(edge, "kofi@example.com", role="seller")
    payouts.link_seller(edge, kofi["id"], "kofi")
    as_seller(shop, "kofi@example.com")
    page = shop.get("/seller/refunds")
    assert page.status_code == 200 and "will not open" not in page.text
    r = shop.post("/seller/refunds", data={"csrf_token": token(shop), "refund": rid, "action": "approve"})
    assert r.status_code == 404
    assert edge.db.execute("SELECT status FROM refunds").fetchone()[0] == "requested"
    assert refunds.seller_requests(edge, []) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(refund=st.one_of(st.text(max_size=40), st.integers(-10, 10**12).map(str)),
       action=st.text(max_size=20), note=st.text(max_size=3000))
def test_any_seller_form_is_answered_without_a_stray_change(shop, sandbox, refund, action, note):
    edge = edge_of(shop)
    if edge.db.execute("SELECT COUNT(*) FROM users WHERE email = 'kofi@example.com'").fetchone()[0] == 0:
        kofi = make_buyer(edge, "kofi@example.com", role="seller")
        payouts.link_seller(edge, kofi["id"], "kofi")
        login(shop, "kofi@example.com", PASSWORD)
    r = shop.post("/seller/refunds", data={"csrf_token": token(shop), "refund": refund, "action": action,
                                           "note": note})
    assert r.status_code in (303, 400, 404, 422), r.text[:300]
    assert edge.db.execute("SELECT COUNT(*) FROM refunds").fetchone()[0] == 0


def test_a_refund_paystack_refused_shows_as_failed_on_the_orders_page(shop, sandbox):
    user, ref, rid = requested(shop, sandbox)
    sandbox.faults(refund_outcome="failed")
    as_seller(shop)
    page = shop.get("/seller/refunds")
    shop.post("/seller/refunds", data={"csrf_token": csrf_from(page.text), "refund": rid, "action": "approve"})
    assert deliver_held(shop, sandbox.take_held())[-1] == "refund_failed"
    as_buyer(shop)
    assert "Paystack could not refund it" in shop.get("/orders").text
    assert [a for a, _ in audit_actions(shop)][-1] == "payment.refund_failed"
