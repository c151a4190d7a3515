"""POST /webhooks/paystack: signatures over the raw bytes, deduplication, one transaction per
event, and every hostile or odd delivery rejected or flagged with nothing applied."""

from __future__ import annotations

import json

from checkout.accounts import users
from checkout.core import retention
from checkout.payments import events, charges, ledger, orders, refunds
from checkout.payments.purchases import owns
from checkout.sandbox import DEFAULT_SECRET, sign

from ..conftest import scrape
from .conftest import deliver, make_buyer


def edge_of(client):
    return client.app.state.edge


def pending_order(edge, email="buyer@example.com", items=(("lagos-grotesk", None),)):
    user = users.get_by_email(edge, email) or make_buyer(edge, email)
    return orders.create_order(edge, dict(user), list(items))


def charge(order, **over):
    data = {"id": 4242, "status": "success", "reference": order["reference"], "amount": order["amount"],
            "currency": order["currency"], "fees": 1500, "paid_at": "2026-11-27T10:00:00.000Z",
            "customer": {"email": order["email"]}, **over}
    return {"event": "charge.success", "data": data}


def counts(edge):
    q = lambda sql: edge.db.execute(sql).fetchone()[0]  # noqa: E731
    return {"purchases": q("SELECT COUNT(*) FROM purchases"), "journals": q("SELECT COUNT(*) FROM ledger_journals"),
            "emails": q("SELECT COUNT(*) FROM outbox WHERE template IN ('receipt', 'sale')")}


def test_valid_event_is_applied_once_however_often_it_arrives(client):
    edge = edge_of(client)
    order = pending_order(edge)
    body = json.dumps(charge(order)).encode()
    r = deliver(client, body)
    assert r.status_code == 200 and r.json()["outcome"] == "paid"
    first = counts(edge)
    assert first == {"purchases": 1, "journals": 2, "emails": 1}
    for _ in range(3):
        r = deliver(client, body)
        assert r.status_code == 200 and r.json()["outcome"] == "duplicate"
    # the same event re-serialised differently is still the same event
    assert deliver(client, json.dumps(charge(order), indent=2).encode()).json()["outcome"] == "duplicate"
    assert counts(edge) == first
    assert ledger.check(edge.db) == []
    text = scrape(client)
    assert 'digitaldock_payment_events_total{outcome="paid"} 1.0' in text
    assert 'digitaldock_payment_events_total{outcome="duplicate"} 4.0' in text
    stored = edge.db.execute("SELECT raw_body, outcome FROM payment_events WHERE event = 'charge.success'").fetchall()
    assert len(stored) == 1 and stored[0]["raw_body"] == body.decode() and stored[0]["outcome"] == "paid"


def test_forged_and_altered_events_are_refused_and_apply_nothing(client):
    edge = edge_of(client)
    order = pending_order(edge)
    body = json.dumps(charge(order)).encode()
    assert deliver(client, body, signature="0" * 128).status_code == 401
    assert deliver(client, body, secret="sk_test_someone_else").status_code == 401
    assert client.post("/webhooks/paystack", content=body, headers={"content-type": "application/json"}).status_code == 401
    good_sig = sign(DEFAULT_SECRET, body)
    altered = body.replace(b'"amount": 500000', b'"amount": 500001')
    assert altered != body
    assert deliver(client, altered, signature=good_sig).status_code == 401
    assert counts(edge) == {"purchases": 0, "journals": 0, "emails": 0}
    assert edge.db.execute("SELECT status FROM orders").fetchone()[0] == "pending"
    # refused deliveries are noted for the alerting job, never stored as events, and do not
    # block the genuine event
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 0
    assert edge.db.execute("SELECT outcome, COUNT(*) FROM rejected_webhooks GROUP BY outcome").fetchall()[0][:] == \
        ("bad_signature", 4)
    assert deliver(client, body).json()["outcome"] == "paid"


def test_a_flood_of_forged_webhooks_cannot_grow_the_database(make_client):
    client = make_client(WEBHOOK_REFUSED_LIMIT="100000/minute")
    edge = edge_of(client)
    forged = json.dumps({"event": "charge.success", "data": {"reference": "x" * 5000}}).encode()
    for _ in range(events.REJECTED_KEPT + 200):
        assert deliver(client, forged, signature="0" * 128).status_code == 401
    assert edge.db.execute("SELECT COUNT(*) FROM rejected_webhooks").fetchone()[0] == events.REJECTED_KEPT
    assert edge.db.execute("SELECT MAX(LENGTH(sample)) FROM rejected_webhooks").fetchone()[0] <= events.REJECTED_SAMPLE
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 0


def test_an_address_that_keeps_forging_is_slowed_down_and_nothing_more_is_written(make_client):
    client = make_client(WEBHOOK_REFUSED_LIMIT="5/minute")
    edge = edge_of(client)
    statuses = [deliver(client, b"{}", signature="bad").status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    assert edge.db.execute("SELECT COUNT(*) FROM rejected_webhooks").fetchone()[0] == 5
    order = pending_order(edge)  # a genuine, signed event from the same address still gets through
    assert deliver(client, charge(order)).json()["outcome"] == "paid"


def test_wrong_amount_or_currency_flags_the_order_and_fulfils_nothing(client):
    edge = edge_of(client)
    low = pending_order(edge)
    r = deliver(client, charge(low, amount=100))
    assert r.json()["outcome"] == "flagged"
    other = pending_order(edge, "two@example.com")
    assert deliver(client, charge(other, currency="USD")).json()["outcome"] == "flagged"
    text_amount = pending_order(edge, "three@example.com")
    assert deliver(client, charge(text_amount, amount="five")).json()["outcome"] == "flagged"
    assert counts(edge) == {"purchases": 0, "journals": 0, "emails": 0}
    flagged = edge.db.execute("SELECT status, flag_reason FROM orders ORDER BY id").fetchall()
    assert [f["status"] for f in flagged] == ["flagged"] * 3
    # a later correct-looking event does not unflag it: a person decides
    assert deliver(client, charge(low, id=1)).json()["outcome"] == "duplicate"
    assert charges.apply_verified(edge, low["reference"], charge(low)["data"], "verify") == "already_flagged"
    assert ledger.check(edge.db) == []


def test_unknown_references_are_stored_and_reported_not_errors(client):
    edge = edge_of(client)
    r = deliver(client, {"event": "charge.success", "data": {"reference": "not-ours", "status": "success",
                                                              "amount": 100, "currency": "NGN"}})
    assert r.status_code == 200 and r.json()["outcome"] == "unknown_reference"
    for event in ("refund.processed", "transfer.success"):
        data = {"transaction_reference": "nope", "reference": "nope", "amount": "5", "currency": "NGN"}
        assert deliver(client, {"event": event, "data": data}).json()["outcome"] == "unknown_reference"
    assert deliver(client, {"event": "subscription.create", "data": {"reference": "x"}}).json()["outcome"] == "ignored"
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events WHERE outcome = 'unknown_reference'").fetchone()[0] == 3


def test_malformed_but_signed_body_is_a_400(client):
    assert deliver(client, b"not json").status_code == 400
    assert deliver(client, {"event": "charge.success", "data": []}).status_code == 400


def test_failed_then_late_success_still_pays(client):
    edge = edge_of(client)
    order = pending_order(edge)
    assert charges.apply_verified(edge, order["reference"], {**charge(order)["data"], "status": "failed"},
                                   "verify") == "failed"
    assert deliver(client, charge(order)).json()["outcome"] == "paid"
    assert owns(edge.db, order["user_id"], "lagos-grotesk")


def test_abandoned_only_after_the_configured_age(client, clock):
    edge = edge_of(client)
    order = pending_order(edge)
    data = {**charge(order)["data"], "status": "abandoned"}
    assert charges.apply_verified(edge, order["reference"], data, "verify") == "still_pending"
    clock.advance(25 * 3600)
    assert charges.apply_verified(edge, order["reference"], data, "verify") == "abandoned"


def test_two_paid_orders_for_one_product_flag_the_second(client):
    edge = edge_of(client)
    a = pending_order(edge)
    b = pending_order(edge)
    assert deliver(client, charge(a)).json()["outcome"] == "paid"
    assert deliver(client, charge(b)).json()["outcome"] == "flagged"
    reason = edge.db.execute("SELECT flag_reason FROM orders WHERE reference = ?", (b["reference"],)).fetchone()[0]
    assert "paid twice" in reason
    assert ledger.check(edge.db) == []


def test_source_ip_check(make_client):
    client = make_client(PAYSTACK_CHECK_SOURCE_IP=True)
    order = pending_order(edge_of(client))
    r = deliver(client, charge(order))
    assert r.status_code == 403 and r.json()["code"] == "forbidden_source"


def test_a_crash_inside_the_transaction_applies_nothing_and_allows_redelivery(client, monkeypatch):
    edge = edge_of(client)
    order = pending_order(edge)
    real = charges._receipt

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(charges, "_receipt", boom)
    r = deliver(client, charge(order))
    assert r.status_code == 500
    assert counts(edge) == {"purchases": 0, "journals": 0, "emails": 0}
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 0
    monkeypatch.setattr(charges, "_receipt", real)
    assert deliver(client, charge(order)).json()["outcome"] == "paid"
    assert ledger.check(edge.db) == []


def test_a_refund_event_before_its_payment_is_refused_for_redelivery(client):
    edge = edge_of(client)
    order = pending_order(edge)
    refund = {"event": "refund.processed", "data": {"transaction_reference": order["reference"], "amount": "500000",
                                                    "currency": "NGN", "refund_reference": "RF1", "status": "processed"}}
    r = deliver(client, refund)
    assert r.status_code == 409 and r.json()["code"] == "retry_later"
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 0
    assert 'outcome="retry_later"' in scrape(client)


def test_replaying_an_old_payment_after_a_refund_grants_nothing(client):
    edge = edge_of(client)
    order = pending_order(edge)
    body = json.dumps(charge(order)).encode()
    deliver(client, body)
    line = edge.db.execute("SELECT id FROM order_lines").fetchone()[0]
    user = dict(edge.db.execute("SELECT * FROM users WHERE id = ?", (order["user_id"],)).fetchone())
    rid = refunds.request_refund(edge, user, line, "It does not open")
    refunds.decide_refund(edge, rid, user["id"], approve=True)
    refund = {"event": "refund.processed", "data": {"transaction_reference": order["reference"], "amount": 500000,
                                                    "currency": "NGN", "refund_reference": "RF9", "status": "processed"}}
    assert deliver(client, refund).json()["outcome"] == "refunded"
    assert deliver(client, body).json()["outcome"] == "duplicate"
    assert charges.apply_verified(edge, order["reference"], charge(order)["data"], "verify") == "already_paid"
    assert not owns(edge.db, order["user_id"], "lagos-grotesk")
    assert ledger.balances(edge, "seller:") == {("seller:ada:pending", "NGN"): 0}
    assert ledger.check(edge.db) == []


def test_refused_webhooks_are_pruned_by_retention(client, clock):
    edge = edge_of(client)
    deliver(client, {"event": "charge.success", "data": {}}, signature="bad")
    assert retention.run(edge)["rejected_webhooks_deleted"] == 0
    clock.advance(31 * 86400)
    assert retention.run(edge)["rejected_webhooks_deleted"] == 1
