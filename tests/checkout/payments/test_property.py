"""Property test: random sequences of checkouts, payments (some with a wrong amount), duplicate
and reordered webhooks, refunds, time passing and payouts. After every step the ledger sums to
zero, no seller balance goes negative, every paid order has its purchases, and no refund or
payout is applied twice (`ledger.check` proves all of it), and money is conserved end to end."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.clock import Clock
from checkout.core.db import atomic
from checkout.core.errors import EdgeError
from checkout.core.settings import load_settings
from checkout.payments import errors, events, ledger, orders, payouts, refunds
from checkout.wiring import build_edge

from .conftest import write_shop_catalog

SLUGS = ("lagos-grotesk", "kente-template", "odd-pennies")
op = st.one_of(
    st.tuples(st.just("checkout"), st.integers(0, 2), st.sets(st.sampled_from(SLUGS), min_size=1, max_size=3)),
    st.tuples(st.just("pay"), st.integers(0, 30), st.sampled_from(["ok", "ok", "ok", "wrong_amount", "failed"])),
    st.tuples(st.just("deliver"), st.integers(0, 30)),
    st.tuples(st.just("redeliver"), st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 30)),
    st.tuples(st.just("days"), st.integers(1, 9)),
    st.tuples(st.just("payout"), st.sampled_from(["success", "failed", "reversed"])),
)


class World:
    def __init__(self, root: Path, **extra: object):
        catalog = root / "catalog.json"
        write_shop_catalog(catalog)
        self.clock = Clock()
        s = load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(root / "data"), CATALOG_PATH=str(catalog),
                          CONTENT_DIR=str(root / "content"), PAYOUT_MINIMUM=1, PLATFORM_FEE_BPS=1000,
                          ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=8, ARGON2_PARALLELISM=1, **extra)
        self.edge = build_edge(s, self.clock)
        self.edge.migrate()
        with atomic(self.edge.db):
            for i in range(3):
                self.edge.db.execute("INSERT INTO users (email, display_name, password_hash, role, created_at,"
                                     " email_verified_at) VALUES (?, ?, 'x', 'buyer', ?, ?)",
                                     (f"b{i}@example.com", f"B{i}", self.clock.iso(), self.clock.iso()))
        for slug in ("ada", "kofi"):
            with atomic(self.edge.db):
                self.edge.db.execute("INSERT INTO payout_recipients (seller_slug, currency, recipient_code, bank_code,"
                                     " account_number, account_name, created_at) VALUES (?, 'NGN', ?, '058',"
                                     " '0123456789', ?, ?)", (slug, f"RCP_{slug}", slug, self.clock.iso()))
        self.orders: list[dict] = []
        self.pending: list[bytes] = []    # events not yet delivered (delivered in any order)
        self.delivered: list[bytes] = []
        self.charged: dict[str, int] = {}  # reference -> amount Paystack took

    def user(self, i: int) -> dict:
        return dict(self.edge.db.execute("SELECT * FROM users WHERE email = ?", (f"b{i}@example.com",)).fetchone())

    def emit(self, event: str, data: dict) -> None:
        self.pending.append(json.dumps({"event": event, "data": data}).encode())

    def step(self, action: tuple) -> None:
        kind = action[0]
        e = self.edge
        if kind == "checkout":
            try:
                self.orders.append(orders.create_order(e, self.user(action[1]), [(s, None) for s in sorted(action[2])]))
            except EdgeError:
                pass  # already owned: refused, as it should be
        elif kind == "pay" and self.orders:
            order = self.orders[action[1] % len(self.orders)]
            if order["reference"] in self.charged:
                return
            amount = order["amount"] + (1 if action[2] == "wrong_amount" else 0)
            status = "failed" if action[2] == "failed" else "success"
            if status == "success":
                self.charged[order["reference"]] = amount
            self.emit("charge.success" if status == "success" else "charge.failed",
                      {"id": len(self.charged), "reference": order["reference"], "status": status, "amount": amount,
                       "currency": order["currency"], "fees": 100})
        elif kind == "deliver" and self.pending:
            raw = self.pending.pop(action[1] % len(self.pending))
            self.receive(raw)
        elif kind == "redeliver" and self.delivered:
            self.receive(self.delivered[action[1] % len(self.delivered)])
        elif kind == "refund":
            lines = e.db.execute("SELECT l.id, o.user_id FROM order_lines l JOIN orders o ON o.id = l.order_id"
                                 " ORDER BY l.id").fetchall()
            if not lines:
                return
            line = lines[action[1] % len(lines)]
            try:
                rid = refunds.request_refund(e, {"id": line["user_id"]}, line["id"], "broken file here")
            except EdgeError:
                return
            refunds.decide_refund(e, rid, line["user_id"], approve=True)
            r = e.db.execute("SELECT r.amount, o.reference FROM refunds r JOIN orders o ON o.id = r.order_id"
                             " WHERE r.id = ?", (rid,)).fetchone()
            self.emit("refund.processed", {"status": "processed", "transaction_reference": r["reference"],
                                           "refund_reference": f"RF{rid}", "amount": str(r["amount"]), "currency": "NGN"})
        elif kind == "days":
            self.clock.advance(action[1] * 86400)
        elif kind == "payout":
            payouts.queue_payouts(e)
            for p in payouts.queued_payouts(e):
                payouts.record_payout_result(e, p, {"transfer_code": f"TRF_{p['id']}"})
                self.emit(f"transfer.{action[1]}", {"reference": p["reference"], "amount": p["amount"],
                                                    "currency": p["currency"], "status": action[1]})

    def receive(self, raw: bytes) -> None:
        try:
            events.receive_event(self.edge, raw)
        except errors.RetryLater:
            self.pending.append(raw)  # Paystack would deliver it again later
            return
        self.delivered.append(raw)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=40))
def test_money_invariants_hold_for_any_sequence(actions):
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp))
        try:
            for action in actions:
                w.step(action)
                assert ledger.check(w.edge.db) == [], action
            # drain: everything eventually arrives (some twice)
            for _ in range(200):
                if not w.pending:
                    break
                w.step(("deliver", 0))
            w.receive(w.delivered[0]) if w.delivered else None
            assert ledger.check(w.edge.db) == []
            db = w.edge.db
            # no seller is paid more than they earned, nothing is applied twice
            for slug in ("ada", "kofi"):
                stats = ledger.seller_stats(w.edge, slug).get("NGN")
                if stats:
                    assert stats["pending"] + stats["available"] + stats["in_flight"] + stats["paid_out"] == stats["net"]
            # every paid order was charged exactly its amount; flagged ones were charged something else
            for o in db.execute("SELECT reference, amount, status FROM orders").fetchall():
                if o["status"] in ("paid", "refunded", "partially_refunded"):
                    assert w.charged[o["reference"]] == o["amount"]
            refunded = db.execute("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE status = 'processed'").fetchone()[0]
            received = sum(o["amount"] for o in db.execute(
                "SELECT amount FROM orders WHERE status IN ('paid', 'refunded', 'partially_refunded')"))
            costs = ledger.balance(w.edge, ledger.COSTS, "NGN")
            paid_out = -ledger.balance(w.edge, ledger.RECEIVABLE, "NGN") + received - refunded - costs
            assert paid_out >= 0
        finally:
            w.edge.close()
