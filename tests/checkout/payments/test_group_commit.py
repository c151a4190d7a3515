"""Webhooks that arrive together are committed together (checkout/group_commit.py), and each
still gets exactly its own outcome: applied once, refused alone, or failed with its batch."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx

from checkout.accounts import users
from checkout.payments import group_commit, ledger, orders
from checkout.sandbox import DEFAULT_SECRET, sign

from .conftest import make_buyer


def _order(edge, n: int) -> dict:

    email = f"buyer{n}@example.com"
    user = users.get_by_email(edge, email) or make_buyer(edge, email)
    return orders.create_order(edge, dict(user), [("lagos-grotesk", None)])


def _charge(order: dict) -> bytes:
    return json.dumps({"event": "charge.success", "data": {
        "id": 4242, "status": "success", "reference": order["reference"], "amount": order["amount"],
        "currency": order["currency"], "fees": 1500, "paid_at": "2026-11-27T10:00:00.000Z",
        "customer": {"email": order["email"]}}}).encode()


def _post_all(app, bodies: list[bytes]) -> list[httpx.Response]:
    """Deliver every body at once, as Paystack does in a burst."""
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.post(
                "/webhooks/paystack", content=body,
                headers={"content-type": "application/json", "x-paystack-signature": sign(DEFAULT_SECRET, body)})
                for body in bodies))
    return asyncio.run(run())


def test_a_burst_is_committed_in_batches_and_each_event_applied_once(client):
    edge = client.app.state.edge
    orders = [_order(edge, n) for n in range(12)]
    bodies = [_charge(o) for o in orders] + [_charge(o) for o in orders[:4]]  # four sent twice
    refund_first = json.dumps({"event": "refund.processed", "data": {
        "transaction_reference": _order(edge, 99)["reference"], "amount": 500000, "currency": "NGN",
        "refund_reference": "RF1", "status": "processed"}}).encode()
    responses = _post_all(client.app, bodies + [refund_first])
    outcomes = [r.json().get("outcome") or r.json().get("code") for r in responses]
    assert all(r.status_code == 200 for r in responses[:-1])
    assert outcomes[:-1].count("paid") == 12 and outcomes[:-1].count("duplicate") == 4
    # the refund that came before its payment is refused alone, leaving no trace
    assert (responses[-1].status_code, outcomes[-1]) == (409, "retry_later")
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 12
    assert edge.db.execute("SELECT COUNT(*) FROM purchases").fetchone()[0] == 12
    assert ledger.check(edge.db) == []
    assert group_commit.group_commit(edge).batches < len(bodies)  # fewer commits than events


def test_a_failed_commit_fails_every_event_in_it_and_stores_none(client, monkeypatch):
    edge = client.app.state.edge
    orders = [_order(edge, n) for n in range(3)]
    real = group_commit.atomic

    @contextlib.contextmanager
    def failing(db):
        with real(db):
            yield db
            raise OSError("disk I/O error")  # the batch's transaction never commits

    monkeypatch.setattr(group_commit, "atomic", failing)
    responses = _post_all(client.app, [_charge(o) for o in orders])
    assert [r.status_code for r in responses] == [500, 500, 500]
    assert "disk I/O" not in "".join(r.text for r in responses)  # no internals to the caller
    assert edge.db.execute("SELECT COUNT(*) FROM payment_events").fetchone()[0] == 0
    monkeypatch.setattr(group_commit, "atomic", real)
    # Paystack delivers them again, and now they are applied
    assert [r.json()["outcome"] for r in _post_all(client.app, [_charge(o) for o in orders])] == ["paid"] * 3
    assert ledger.check(edge.db) == []
