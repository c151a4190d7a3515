"""The edge's own schedules: reconciliation heals a missed webhook, the payout job releases and
pays out, and both keep running after a bad round."""

from __future__ import annotations

import time

from checkout.payments import ledger, orders, payouts
from checkout.web import jobs

from .conftest import deliver_held, make_buyer


def wait_for(predicate, seconds: float = 10.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_reconcile_and_payout_schedules_run_inside_the_edge(make_client, sandbox, clock):
    client = make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=0, RECONCILE_INTERVAL_SECONDS=0.05,
                         RECONCILE_AFTER_SECONDS=0, PAYOUT_INTERVAL_SECONDS=0.05, PAYOUT_MINIMUM=1)
    edge = client.app.state.edge
    on_loop = client.portal.call  # the edge's one connection is only ever used from its event loop
    user = on_loop(make_buyer, edge)
    order = on_loop(orders.create_order, edge, user, [("lagos-grotesk", None)])
    on_loop(orders.start_payment, edge, order)
    sandbox.pay(order["reference"])
    sandbox.take_held()  # the webhook never arrives
    assert wait_for(lambda: on_loop(lambda: [tuple(r) for r in edge.db.execute(
        "SELECT source, outcome FROM payment_events")]) == [("reconcile", "paid")], 20)
    assert on_loop(orders.get_order, edge, order["reference"])["status"] == "paid"
    on_loop(payouts.add_bank_account, edge, "ada", "Ada Obi", "0123456789", "058", "NGN")
    clock.advance(8 * 86400)
    assert wait_for(lambda: on_loop(lambda: edge.db.execute("SELECT COUNT(*) FROM payouts").fetchone()[0]) == 1)
    assert wait_for(lambda: bool(sandbox.box.held))
    assert deliver_held(client, sandbox.take_held()) == ["payout_success"]
    assert on_loop(ledger.check, edge.db) == []


def test_a_failing_round_does_not_stop_the_schedule():
    import asyncio

    asyncio.run(_run_schedule())


async def _run_schedule():
    import asyncio

    calls = []

    async def job(edge):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return {"done": 1}

    stop = asyncio.Event()
    task = asyncio.create_task(jobs._every(None, 0.01, job, stop, "test_job"))
    for _ in range(200):
        if len(calls) >= 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert len(calls) >= 3
