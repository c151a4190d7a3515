"""Sellers' webhook endpoints and their deliveries.

An endpoint belongs to one account (a seller or an admin), has a URL checked by
`addresses.check_url`, the events it wants (`checkout.core.signals.EVENTS`) and a secret shown
once when it is made or rotated. `on_event` (an event listener, registered in
`checkout/wiring.py`) queues one `pending` delivery per subscribed, active endpoint of the
accounts the event concerns, in the transaction of the change. `claim_due` / `record_result`
are the worker's two halves around `sender.post` (called outside any transaction):
success, or a retry after WEBHOOK_BACKOFF_SECONDS × 2^(attempts−1), or, once a delivery is
older than WEBHOOK_RETRY_HOURS, `dead` and the endpoint disabled with an email to its owner.
A delivery claimed by a worker that died is taken again after STALE_CLAIM_SECONDS; receivers
deduplicate on `DigitalDock-Delivery` (the event id), the same for every retry.
"""

from __future__ import annotations

import json
import secrets as _secrets
from typing import Any

import structlog

from checkout.core import audit, outbox, signals
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.core.paging import Page, keyset
from checkout.integrations import addresses, sender, signing
from checkout.integrations.sender import Outcome

log = structlog.get_logger("checkout.webhooks")

MAX_ENDPOINTS_PER_USER = 10
STALE_CLAIM_SECONDS = 300
DELIVERY_STATES = ("pending", "sending", "succeeded", "failed", "dead")


def _secret() -> str:
    return "whsec_" + _secrets.token_urlsafe(32)


def check_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValidationFailed(fields={"events": "must be a non-empty list of event names, e.g. [\"sale\"]"})
    unknown = sorted({e for e in events if e not in signals.EVENTS or e == "ping"})
    if unknown:
        raise ValidationFailed(fields={"events": f"unknown event {unknown[0][:40]!r}; known: "
                                                 f"{', '.join(e for e in signals.EVENTS if e != 'ping')}"})
    return sorted(set(events))


def _description(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str) or len(text) > 200 or not text.isprintable():
        raise ValidationFailed(fields={"description": "must be at most 200 printable characters"})
    return text


def describe(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "url": row["url"], "description": row["description"], "events": row["events"].split(),
            "status": row["status"], "disabled_reason": row["disabled_reason"], "created_at": row["created_at"],
            "secret_rotating_until": row["old_secret_until"]}


def _row(edge: "Edge", user_id: int, endpoint_id: int) -> Any:
    row = edge.db.execute("SELECT * FROM webhook_endpoints WHERE id = ? AND user_id = ?", (endpoint_id, user_id)).fetchone()
    if row is None:
        raise NotFound("There is no webhook endpoint with that id.")
    return row


def create(edge: "Edge", user: Any, url: Any, events: Any, description: Any = None) -> tuple[dict[str, Any], str]:
    """A new endpoint: (its description, its secret, shown this once)."""
    events = check_events(events)
    description = _description(description)
    addresses.check_url(url, edge.settings.WEBHOOK_ALLOW_PRIVATE)
    secret = _secret()
    now = edge.clock.iso()
    with atomic(edge.db):
        count = edge.db.execute("SELECT COUNT(*) FROM webhook_endpoints WHERE user_id = ?", (user["id"],)).fetchone()[0]
        if count >= MAX_ENDPOINTS_PER_USER:
            raise Conflict(f"You have {count} endpoints, the most an account can have; delete one first.",
                           code="too_many_endpoints")
        cur = edge.db.execute("INSERT INTO webhook_endpoints (user_id, url, description, events, secret, created_at,"
                              " updated_at) VALUES (?,?,?,?,?,?,?)",
                              (user["id"], url, description, " ".join(events), secret, now, now))
        audit.record(edge, "webhook.endpoint_created", actor_id=user["id"], subject_id=user["id"],
                     endpoint=int(cur.lastrowid), url=url)
    return get(edge, user["id"], int(cur.lastrowid)), secret


def get(edge: "Edge", user_id: int, endpoint_id: int) -> dict[str, Any]:
    return describe(_row(edge, user_id, endpoint_id))


def of_user(edge: "Edge", user_id: int) -> list[dict[str, Any]]:
    return [describe(r) for r in edge.db.execute("SELECT * FROM webhook_endpoints WHERE user_id = ? ORDER BY id DESC",
                                                 (user_id,))]


def update(edge: "Edge", user_id: int, endpoint_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change the URL, events, description, or enable a disabled endpoint (`status: active`)."""
    row = _row(edge, user_id, endpoint_id)
    sets: dict[str, Any] = {}
    if "url" in changes:
        addresses.check_url(changes["url"], edge.settings.WEBHOOK_ALLOW_PRIVATE)
        sets["url"] = changes["url"]
    if "events" in changes:
        sets["events"] = " ".join(check_events(changes["events"]))
    if "description" in changes:
        sets["description"] = _description(changes["description"])
    if "status" in changes:
        if changes["status"] not in ("active", "disabled"):
            raise ValidationFailed(fields={"status": "must be active or disabled"})
        sets["status"] = changes["status"]
        sets["disabled_reason"] = None if changes["status"] == "active" else "Disabled by its owner."
    if not sets:
        return describe(row)
    sets["updated_at"] = edge.clock.iso()
    with atomic(edge.db):
        edge.db.execute(f"UPDATE webhook_endpoints SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                        (*sets.values(), endpoint_id))
    return get(edge, user_id, endpoint_id)


def rotate_secret(edge: "Edge", user_id: int, endpoint_id: int) -> tuple[dict[str, Any], str]:
    """A new secret; the old one goes on signing (beside it) for WEBHOOK_SECRET_OVERLAP_HOURS."""
    row = _row(edge, user_id, endpoint_id)
    secret = _secret()
    until = edge.clock.iso(edge.settings.WEBHOOK_SECRET_OVERLAP_HOURS * 3600)
    with atomic(edge.db):
        edge.db.execute("UPDATE webhook_endpoints SET secret = ?, old_secret = ?, old_secret_until = ?, updated_at = ?"
                        " WHERE id = ?", (secret, row["secret"], until, edge.clock.iso(), endpoint_id))
        audit.record(edge, "webhook.secret_rotated", actor_id=user_id, subject_id=user_id, endpoint=endpoint_id)
    return get(edge, user_id, endpoint_id), secret


def delete(edge: "Edge", user_id: int, endpoint_id: int) -> None:
    _row(edge, user_id, endpoint_id)
    with atomic(edge.db):
        edge.db.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", (endpoint_id,))
        edge.db.execute("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))
        audit.record(edge, "webhook.endpoint_deleted", actor_id=user_id, subject_id=user_id, endpoint=endpoint_id)


# --- events become deliveries ------------------------------------------------------------------------

def _envelope(edge: "Edge", event: str, data: dict[str, Any]) -> tuple[str, str]:
    event_id = "evt_" + _secrets.token_hex(12)
    body = json.dumps({"id": event_id, "type": event, "created_at": edge.clock.iso(), "data": data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return event_id, body


def _queue(edge: "Edge", endpoint_id: int, event: str, event_id: str, body: str) -> int:
    now = edge.clock.iso()
    cur = edge.db.execute("INSERT INTO webhook_deliveries (endpoint_id, event, event_id, payload, status, attempts,"
                          " next_attempt_at, created_at) VALUES (?,?,?,?, 'pending', 0, ?, ?)",
                          (endpoint_id, event, event_id, body, now, now))
    return int(cur.lastrowid)


def audience(edge: "Edge", data: dict[str, Any]) -> list[int]:
    """The accounts an event concerns: the accounts managing its seller, and every admin."""
    seller = data.get("seller")
    rows = edge.db.execute("SELECT user_id FROM seller_accounts WHERE seller_slug = ?"
                           " UNION SELECT id FROM users WHERE role = 'admin'", (seller,)).fetchall()
    return sorted({int(r[0]) for r in rows})


def on_event(edge: "Edge", event: str, data: dict[str, Any]) -> None:
    """Event listener: queue a delivery for each active endpoint subscribed to `event`."""
    users = audience(edge, data)
    if not users:
        return
    marks = ", ".join("?" * len(users))
    endpoints = edge.db.execute(f"SELECT id, events FROM webhook_endpoints WHERE status = 'active' AND user_id IN ({marks})",
                                users).fetchall()
    wanted = [e["id"] for e in endpoints if event in e["events"].split()]
    if not wanted:
        return
    event_id, body = _envelope(edge, event, data)
    for endpoint_id in wanted:
        _queue(edge, endpoint_id, event, event_id, body)


def send_test(edge: "Edge", user_id: int, endpoint_id: int) -> dict[str, Any]:
    """Queue a `ping` to one endpoint (active or not: a disabled one can be tested before enabling it)."""
    _row(edge, user_id, endpoint_id)
    with atomic(edge.db):
        event_id, body = _envelope(edge, "ping", {"endpoint_id": endpoint_id, "message": "A test event from DigitalDock."})
        delivery_id = _queue(edge, endpoint_id, "ping", event_id, body)
    return delivery(edge, user_id, endpoint_id, delivery_id)


def redeliver(edge: "Edge", user_id: int, endpoint_id: int, delivery_id: int) -> dict[str, Any]:
    """The same event (same id and body) queued once more, as a new delivery."""
    old = delivery(edge, user_id, endpoint_id, delivery_id)
    row = edge.db.execute("SELECT payload FROM webhook_deliveries WHERE id = ?", (delivery_id,)).fetchone()
    with atomic(edge.db):
        new_id = _queue(edge, endpoint_id, old["event"], old["event_id"], row["payload"])
    return delivery(edge, user_id, endpoint_id, new_id)


# --- the delivery log -------------------------------------------------------------------------------

def _delivery_json(r: Any) -> dict[str, Any]:
    return {"id": r["id"], "endpoint_id": r["endpoint_id"], "event": r["event"], "event_id": r["event_id"],
            "status": r["status"], "attempts": r["attempts"], "next_attempt_at": r["next_attempt_at"] if r["status"] in (
                "pending", "failed") else None, "response_status": r["response_status"],
            "response_body": r["response_body"], "error": r["last_error"], "duration_ms": r["duration_ms"],
            "created_at": r["created_at"], "delivered_at": r["delivered_at"]}


def delivery(edge: "Edge", user_id: int, endpoint_id: int, delivery_id: int) -> dict[str, Any]:
    _row(edge, user_id, endpoint_id)
    r = edge.db.execute("SELECT * FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?",
                        (delivery_id, endpoint_id)).fetchone()
    if r is None:
        raise NotFound("There is no delivery with that id.")
    return {**_delivery_json(r), "payload": json.loads(r["payload"])}


def deliveries_page(edge: "Edge", user_id: int, endpoint_id: int, cursor: str | None, limit: int,
                    status: str | None = None) -> Page:
    _row(edge, user_id, endpoint_id)
    where, args = ["endpoint_id = ?"], [endpoint_id]
    if status not in (None, ""):
        if status not in DELIVERY_STATES:
            raise ValidationFailed(fields={"status": f"must be one of {', '.join(DELIVERY_STATES)}"})
        where.append("status = ?")
        args.append(status)
    page = keyset(edge.db, "SELECT * FROM webhook_deliveries", where, args, "id", cursor, limit)
    return Page([_delivery_json(r) for r in page.items], page.next_cursor)


# --- the worker -------------------------------------------------------------------------------------

def claim_due(edge: "Edge", limit: int = 20) -> list[dict[str, Any]]:
    """Due deliveries of active endpoints (and tests of any), marked `sending`, with what to sign."""
    now = edge.clock()
    with atomic(edge.db):
        rows = edge.db.execute(
            "SELECT d.*, e.url, e.secret, e.old_secret, e.old_secret_until, e.status AS endpoint_status"
            " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
            " WHERE ((d.status IN ('pending', 'failed') AND d.next_attempt_at <= ?)"
            " OR (d.status = 'sending' AND d.claimed_at <= ?)) AND (e.status = 'active' OR d.event = 'ping')"
            " ORDER BY d.next_attempt_at, d.id LIMIT ?", (iso(now), iso(now - STALE_CLAIM_SECONDS), limit)).fetchall()
        for r in rows:
            edge.db.execute("UPDATE webhook_deliveries SET status = 'sending', claimed_at = ?, attempts = attempts + 1"
                            " WHERE id = ?", (iso(now), r["id"]))
    out = []
    for r in rows:
        keys = [r["secret"]]
        if r["old_secret"] and r["old_secret_until"] and parse_iso(r["old_secret_until"]) > now:
            keys.append(r["old_secret"])
        out.append({"id": r["id"], "endpoint_id": r["endpoint_id"], "event": r["event"], "event_id": r["event_id"],
                    "url": r["url"], "payload": r["payload"], "secrets": keys, "attempts": r["attempts"] + 1,
                    "created_at": r["created_at"]})
    return out


def send_one(edge: "Edge", item: dict[str, Any]) -> Outcome:
    """POST one claimed delivery (no database work: call it outside a transaction, off the loop)."""
    s = edge.settings
    body = item["payload"].encode()
    stamp = int(edge.clock())
    headers = {signing.HEADER: signing.header(item["secrets"], stamp, body), "DigitalDock-Event": item["event"],
               "DigitalDock-Delivery": item["event_id"]}
    return sender.post(item["url"], body, headers, timeout=s.WEBHOOK_TIMEOUT_SECONDS,
                       max_bytes=s.WEBHOOK_MAX_RESPONSE_BYTES, allow_private=s.WEBHOOK_ALLOW_PRIVATE)


def record_result(edge: "Edge", item: dict[str, Any], outcome: Outcome) -> str:
    s = edge.settings
    now = edge.clock()
    with atomic(edge.db):
        common = (outcome.status, outcome.body, outcome.error, outcome.duration_ms)
        if outcome.ok:
            edge.db.execute("UPDATE webhook_deliveries SET status = 'succeeded', response_status = ?, response_body = ?,"
                            " last_error = ?, duration_ms = ?, delivered_at = ?, claimed_at = NULL WHERE id = ?",
                            (*common, iso(now), item["id"]))
            return "succeeded"
        age = now - parse_iso(item["created_at"])
        if item["event"] == "ping" or age >= s.WEBHOOK_RETRY_HOURS * 3600:
            edge.db.execute("UPDATE webhook_deliveries SET status = 'dead', response_status = ?, response_body = ?,"
                            " last_error = ?, duration_ms = ?, claimed_at = NULL WHERE id = ?", (*common, item["id"]))
            if item["event"] != "ping":
                _disable(edge, item["endpoint_id"], outcome.error or "failed")
            return "dead"
        delay = s.WEBHOOK_BACKOFF_SECONDS * (2 ** (item["attempts"] - 1))
        edge.db.execute("UPDATE webhook_deliveries SET status = 'failed', response_status = ?, response_body = ?,"
                        " last_error = ?, duration_ms = ?, next_attempt_at = ?, claimed_at = NULL WHERE id = ?",
                        (*common, iso(now + delay), item["id"]))
        log.warning("webhook_retry", delivery=item["id"], attempts=item["attempts"], retry_in=delay, error=outcome.error)
        return "retry"


def _disable(edge: "Edge", endpoint_id: int, error: str) -> None:
    """Inside the caller's transaction: the endpoint stops receiving; its owner is told why."""
    row = edge.db.execute("SELECT e.*, u.email, u.display_name FROM webhook_endpoints e JOIN users u ON u.id = e.user_id"
                          " WHERE e.id = ?", (endpoint_id,)).fetchone()
    if row is None or row["status"] != "active":
        return
    hours = edge.settings.WEBHOOK_RETRY_HOURS
    reason = f"Deliveries failed for {hours:g} hours (last: {error[:200]})."
    edge.db.execute("UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ?",
                    (reason, edge.clock.iso(), endpoint_id))
    audit.record(edge, "webhook.endpoint_disabled", subject_id=row["user_id"], endpoint=endpoint_id, reason=reason)
    outbox.enqueue(edge, "webhook_disabled", row["email"], row["user_id"], name=row["display_name"], url=row["url"],
                   reason=reason, hours=f"{hours:g}")
    log.error("webhook_endpoint_disabled", endpoint=endpoint_id, reason=reason)


def process_due(edge: "Edge", limit: int = 20) -> dict[str, int]:
    """Send every due delivery once (synchronously; the CLI and tests). Returns counts by outcome."""
    counts = {"succeeded": 0, "retry": 0, "dead": 0}
    for item in claim_due(edge, limit):
        counts[record_result(edge, item, send_one(edge, item))] += 1
    return counts


KEEP_DELIVERIES_DAYS = 30


def prune(edge: "Edge", now: float) -> dict[str, int]:
    """Retention step: finished deliveries (succeeded or given up) older than 30 days are forgotten;
    the delivery log shows a month."""
    cur = edge.db.execute("DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'dead') AND created_at < ?",
                          (iso(now - KEEP_DELIVERIES_DAYS * 86400),))
    return {"webhook_deliveries": cur.rowcount}
