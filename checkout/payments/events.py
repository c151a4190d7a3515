"""Payment events (Paystack webhooks and verify results): stored, deduplicated and applied in one
transaction, so a redelivery inserts nothing and applies nothing.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments.charges import apply_charge
from checkout.payments.payouts import apply_transfer
from checkout.payments.paystack import amount_of
from checkout.payments.refunds import REFUND_STATES, apply_refund_failed, apply_refund_processed, apply_refund_progress

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
    found = data.get("reference") or data.get("transaction_reference")
    # a signed event is still data: a reference that is a list or an object is noted as text
    reference = found if isinstance(found, str) or found is None else json.dumps(found)[:200]
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


REJECTED_KEPT = 1000  # refused webhooks kept as a sample; older ones are dropped as new ones come
REJECTED_SAMPLE = 512  # bytes of a refused body kept, to see what was tried


def record_rejected(edge: "Edge", raw: bytes, outcome: str, ip: str | None) -> None:
    """Note a refused webhook (bad signature, wrong source) for the alert and the admin.

    Only verified events go into `payment_events`. A refused one leaves a row in a table capped
    at REJECTED_KEPT rows with a short sample of its body, so a flood of forgeries cannot grow
    the database (the web layer also rate-limits refused posts per address)."""
    with atomic(edge.db):
        cur = edge.db.execute("INSERT INTO rejected_webhooks (at, ip, outcome, size, sample) VALUES (?,?,?,?,?)",
                              (edge.clock.iso(), ip, outcome, len(raw),
                               raw[:REJECTED_SAMPLE].decode("utf-8", "replace")))
        edge.db.execute("DELETE FROM rejected_webhooks WHERE id <= ?", (int(cur.lastrowid) - REJECTED_KEPT,))


def rejected_since(edge: "Edge", since: str) -> int:
    """Refused webhooks noted since `since` (at most REJECTED_KEPT: enough for a threshold)."""
    return int(edge.db.execute("SELECT COUNT(*) FROM rejected_webhooks WHERE at >= ?", (since,)).fetchone()[0])


def prune_rejected(edge: "Edge", now: float) -> dict[str, int]:
    """Retention task: refused webhooks (forgeries, wrong source) are kept LOG_RETENTION_DAYS."""
    cur = edge.db.execute("DELETE FROM rejected_webhooks WHERE at < ?",
                          (iso(now - edge.settings.LOG_RETENTION_DAYS * 86400),))
    return {"rejected_webhooks_deleted": cur.rowcount}


def apply_event(edge: "Edge", event: str, data: dict[str, Any]) -> str:
    if event == "charge.success":
        return apply_charge(edge, data)
    if event == "refund.processed":
        return apply_refund_processed(edge, data)
    if event == "refund.failed":
        return apply_refund_failed(edge, data)
    if event in REFUND_STATES:
        return apply_refund_progress(edge, event, data)
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
