"""Payment events (Paystack webhooks and verify results): stored, deduplicated and applied in one
transaction, so a redelivery inserts nothing and applies nothing.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import structlog

from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments.charges import apply_charge
from checkout.payments.payouts import apply_transfer
from checkout.payments.paystack import amount_of
from checkout.payments.refunds import apply_refund_failed, apply_refund_processed

log = structlog.get_logger("checkout.payments.events")


def dedup_key(event: str, data: dict[str, Any]) -> str:
    """Paystack events carry no id: the event name plus what identifies its subject."""
    if event.startswith("refund."):
        return f"{data.get('transaction_reference')}:{data.get('refund_reference') or ''}:{amount_of(data.get('amount'))}"
    return str(data.get("reference") or data.get("transfer_code") or data.get("id") or "")


def receive_event(edge: "Edge", raw: bytes, source: str = "webhook") -> str:
    """Store, deduplicate and apply one verified event in a single transaction; return the outcome."""
    with atomic(edge.db):
        outcome, logged = store_and_apply(edge, raw, source)
    if logged:
        log.info("payment_event", **logged)
    return outcome


def store_and_apply(edge: "Edge", raw: bytes, source: str = "webhook") -> tuple[str, dict[str, Any] | None]:
    """The inside of `receive_event`: the outcome, and what to log once the transaction holding
    it has committed (None when nothing was applied). Must run inside a transaction."""
    try:
        body = json.loads(raw)
        event, data = str(body["event"]), body["data"]
        if not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return "malformed", None
    key = dedup_key(event, data)
    reference = data.get("reference") or data.get("transaction_reference")
    with atomic(edge.db):  # a savepoint: an event that fails leaves no trace, even in a batch
        cur = edge.db.execute(
            "INSERT OR IGNORE INTO payment_events (source, event, dedup_key, reference, raw_body, signature_ok,"
            " received_at) VALUES (?,?,?,?,?,1,?)", (source, event, key, reference, raw.decode("utf-8", "replace"),
                                                    edge.clock.iso()))
        if not cur.rowcount:
            return "duplicate", None
        event_id = int(cur.lastrowid)
        outcome = apply_event(edge, event, data)
        edge.db.execute("UPDATE payment_events SET applied_at = ?, outcome = ? WHERE id = ?",
                        (edge.clock.iso(), outcome, event_id))
    return outcome, {"name": event, "reference": reference, "outcome": outcome, "source": source}


def record_rejected(edge: "Edge", raw: bytes, outcome: str) -> None:
    """Keep a refused webhook (bad signature, wrong source) for the alerting job: a unique
    dedup key, so it can never take the place of the genuine event; the body is truncated."""
    with atomic(edge.db):
        edge.db.execute(
            "INSERT INTO payment_events (source, event, dedup_key, reference, raw_body, signature_ok, received_at,"
            " outcome) VALUES ('webhook', 'rejected', ?, NULL, ?, 0, ?, ?)",
            (f"rejected:{secrets.token_hex(12)}", raw[:4096].decode("utf-8", "replace"), edge.clock.iso(), outcome))


def prune_rejected(edge: "Edge", now: float) -> dict[str, int]:
    """Retention hook: refused webhooks (forgeries, wrong source) are kept LOG_RETENTION_DAYS."""

    cur = edge.db.execute("DELETE FROM payment_events WHERE signature_ok = 0 AND received_at < ?",
                          (iso(now - edge.settings.LOG_RETENTION_DAYS * 86400),))
    return {"rejected_webhooks_deleted": cur.rowcount}


def apply_event(edge: "Edge", event: str, data: dict[str, Any]) -> str:
    if event == "charge.success":
        return apply_charge(edge, data)
    if event == "refund.processed":
        return apply_refund_processed(edge, data)
    if event == "refund.failed":
        return apply_refund_failed(edge, data)
    if event in ("transfer.success", "transfer.failed", "transfer.reversed"):
        return apply_transfer(edge, event.split(".", 1)[1], data)
    return "ignored"


PROBLEM_OUTCOMES = ("unknown_reference", "unmatched_refund", "amount_mismatch", "flagged")


def problems(edge: "Edge", limit: int = 100) -> list[dict[str, Any]]:
    """Events a person should look at (unknown references, unmatched refunds, mismatches), newest first."""
    marks = ",".join("?" * len(PROBLEM_OUTCOMES))
    return [dict(r) for r in edge.db.execute(
        f"SELECT id, event, reference, received_at, outcome FROM payment_events WHERE outcome IN ({marks})"
        " ORDER BY id DESC LIMIT ?", (*PROBLEM_OUTCOMES, limit))]
