"""Nothing that grows with the data runs on the event loop: while the heaviest admin page (the
ledger check over every order) is working, the edge keeps answering everyone else.

The check is held at a gate so the test does not depend on how fast this machine is: if the
check ran on the event loop, /healthz could not be answered until the gate opened.
"""

from __future__ import annotations

import asyncio
import threading

import httpx

from checkout.accounts import consent, users
from checkout.payments import ledger
from checkout.testing.bulk import fill_orders

from ..conftest import PASSWORD, edge_of, login


def test_healthz_answers_while_the_admin_orders_page_checks_a_large_ledger(client, monkeypatch):
    edge = edge_of(client)
    fill_orders(edge.db.conn, 20_000)
    users.create_user(edge, "root@example.com", "Root Admin", "admin", edge.hasher.hash(PASSWORD),
                      consent.required_now(edge, "admin"), verified=True, send_verification=False, actor_id=0)
    assert login(client, "root@example.com", PASSWORD).status_code == 303
    started, release = threading.Event(), threading.Event()
    real = ledger.check

    def gated(db):
        started.set()
        release.wait(20)
        return real(db)

    monkeypatch.setattr(ledger, "check", gated)

    async def scenario() -> tuple[int, bool, httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     cookies=dict(client.cookies)) as c:
            page = asyncio.create_task(c.get("/admin/orders"))
            await asyncio.to_thread(started.wait, 20)
            health = await asyncio.wait_for(c.get("/healthz"), 20)
            still_checking = not page.done()
            release.set()
            return health.status_code, still_checking, await page

    status, still_checking, page = asyncio.run(scenario())
    assert status == 200 and still_checking
    assert page.status_code == 200 and "Every ledger invariant holds." in page.text
    assert page.text.count("dd-bulk-") == 100 and "Older orders" in page.text  # one page of 100, not 20,000
