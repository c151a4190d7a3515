"""Crash test with real processes: the sandbox streams signed webhooks to the edge, the edge is
killed with SIGKILL in the middle, restarted on the same port, the sandbox redelivers, and every
payment is applied exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from checkout.core.settings import load_settings
from checkout.payments import ledger, orders
from checkout.wiring import build_edge

from ..web.test_server import CLI, FAST_ENV, base_env
from .conftest import _free_port, make_buyer, write_shop_catalog

N = 24
AUTH = {"Authorization": "Bearer sk_test_digitaldock_sandbox"}


def wait_http(url: str, proc: subprocess.Popen) -> None:
    for _ in range(300):
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer")


def start(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(cwd / f"{args[0]}.log", "ab") as log:  # a file, not a pipe: a full pipe would stall the server
        return subprocess.Popen([*CLI, *args], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)


def test_sigkill_mid_stream_then_redelivery_applies_every_payment_once(tmp_path):
    write_shop_catalog(tmp_path / "catalog.json")
    edge_port, sandbox_port = _free_port(), _free_port()
    env = base_env(**FAST_ENV, CATALOG_PATH=str(tmp_path / "catalog.json"), DIGITALDOCK_DATA_DIR=str(tmp_path / "data"),
                   CHECKOUT_URL=f"http://127.0.0.1:{edge_port}", PAYSTACK_BASE_URL=f"http://127.0.0.1:{sandbox_port}",
                   PAYSTACK_WEBHOOK_URL=f"http://127.0.0.1:{edge_port}/webhooks/paystack",
                   OUTBOX_POLL_SECONDS="0", RECONCILE_INTERVAL_SECONDS="0", PAYOUT_INTERVAL_SECONDS="0")
    sandbox = start(["sandbox", "--port", str(sandbox_port)], tmp_path, env)
    edge_proc = None
    local = None
    try:
        wait_http(f"http://127.0.0.1:{sandbox_port}/", sandbox)
        sb = f"http://127.0.0.1:{sandbox_port}"
        httpx.post(f"{sb}/_sandbox/faults", json={"retry_seconds": 0.1, "max_attempts": 30, "duplicate_webhooks": True},
                   headers=AUTH).raise_for_status()
        edge_proc = start(["edge", "--port", str(edge_port)], tmp_path, env)
        wait_http(f"http://127.0.0.1:{edge_port}/healthz", edge_proc)
        settings = load_settings(environ=env, dotenv=None)
        local = build_edge(settings)
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
                edge_proc.send_signal(signal.SIGKILL)
                edge_proc.wait(timeout=10)
                killed_at = local.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'paid'").fetchone()[0]
            time.sleep(0.01)
        assert killed_at is not None and 0 < killed_at < N
        edge_proc = start(["edge", "--port", str(edge_port)], tmp_path, env)
        wait_http(f"http://127.0.0.1:{edge_port}/healthz", edge_proc)
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
    finally:
        if local is not None:
            local.close()
        for proc in (edge_proc, sandbox):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
