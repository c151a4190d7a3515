"""Crash test with real processes: the sandbox streams signed webhooks to the edge, the edge is
killed with SIGKILL in the middle, restarted on the same port, the sandbox redelivers, and every
payment is applied exactly once."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time

import httpx

from checkout.core.settings import load_settings
from checkout.payments import ledger, orders
from checkout.wiring import build_edge

from ...servers import CLI, FAST_ENV, base_env, free_port, serve, serve_edge
from .conftest import make_buyer, write_shop_catalog

N = 24
AUTH = {"Authorization": "Bearer sk_test_digitaldock_sandbox"}


def test_sigkill_mid_stream_then_redelivery_applies_every_payment_once(tmp_path):
    write_shop_catalog(tmp_path / "catalog.json")
    edge_port, sandbox_port = free_port(), free_port()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(tmp_path / "catalog.json"), DIGITALDOCK_DATA_DIR=str(tmp_path / "data"),
                   CHECKOUT_URL=f"http://127.0.0.1:{edge_port}", PAYSTACK_BASE_URL=f"http://127.0.0.1:{sandbox_port}",
                   PAYSTACK_WEBHOOK_URL=f"http://127.0.0.1:{edge_port}/webhooks/paystack",
                   OUTBOX_POLL_SECONDS="0", RECONCILE_INTERVAL_SECONDS="0", PAYOUT_INTERVAL_SECONDS="0")
    sandbox_argv = [*CLI, "sandbox", "--port", str(sandbox_port)]
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(serve(sandbox_argv, port=sandbox_port, ready="/", cwd=tmp_path, env=env,
                                            log=tmp_path / "sandbox.log", name="sandbox"))
        sb = sandbox.url
        httpx.post(f"{sb}/_sandbox/faults", json={"retry_seconds": 0.1, "max_attempts": 30, "duplicate_webhooks": True},
                   headers=AUTH).raise_for_status()
        edge = stack.enter_context(serve_edge(tmp_path, env, port=edge_port, log=tmp_path / "edge.log"))
        settings = load_settings(environ=env, dotenv=None)
        local = build_edge(settings)
        stack.callback(local.close)
        refs = []
        for i in range(N):
            user = make_buyer(local, f"buyer{i}@example.com")
            order = orders.create_order(local, user, [("lagos-grotesk", None), ("odd-pennies", None)])
            orders.start_payment(local, order)
            refs.append(order["reference"])
        killed_at = None
        for i, ref in enumerate(refs):
            httpx.post(f"{sb}/_sandbox/pay/{ref}", json={"action": "pay"}, headers=AUTH).raise_for_status()
            if i == N // 3:
                for _ in range(1000):  # let part of the stream land, then kill mid-stream
                    if local.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0] >= 3:
                        break
                    time.sleep(0.01)
                edge.proc.send_signal(signal.SIGKILL)
                edge.proc.wait(timeout=10)
                killed_at = local.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0]
            time.sleep(0.01)
        assert killed_at is not None and 0 < killed_at < N
        stack.enter_context(serve_edge(tmp_path, env, port=edge_port, log=tmp_path / "edge.log"))
        for _ in range(600):
            if local.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0] == N:
                break
            time.sleep(0.05)
        state = httpx.get(f"{sb}/_sandbox/state", headers=AUTH).json()["data"]
        deliveries = state["deliveries"]
        assert len(deliveries) == 2 * N  # every event sent twice on purpose
        assert any(d["attempts"] > 1 for d in deliveries)  # some were redelivered after the kill
        db = local.db
        assert db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0] == N
        assert db.execute("SELECT COUNT(*) FROM purchases").fetchone()[0] == 2 * N
        assert db.execute("SELECT COUNT(*) FROM ledger_journals WHERE kind = 'sale'").fetchone()[0] == N
        assert db.execute("SELECT COUNT(*) FROM payment_events WHERE event = 'charge.success'").fetchone()[0] == N
        assert db.execute("SELECT COUNT(*) FROM outbox WHERE template = 'receipt'").fetchone()[0] == N
        assert ledger.check(local.db) == []
        # gross in; Paystack's own charge moved from the receivable to the platform's costs
        assert ledger.balance(local, ledger.RECEIVABLE, "NGN") + ledger.balance(local, ledger.COSTS, "NGN") == N * 507777
        out = subprocess.run([*CLI, "ledger", "check"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert out.returncode == 0 and "ledger ok" in out.stdout
