"""Alerts for the people who run DigitalDock: email to every admin (through the outbox) and to
Sentry when SENTRY_DSN is set.

`raise_alert(edge, kind, message)` records the alert in the `alerts` table and mails it at most
once every ALERT_REPEAT_MINUTES per kind; `clear(edge, kind)` forgets it once the cause is gone.
`run_checks(edge)` runs every check in `edge.hooks.alert_checks` (each returns a message when
something is wrong, else None) and raises or clears the alert of that kind; `digitaldock
alerts` runs it from a timer. `checkout.wiring` registers the checks below (`CHECKS`).

`readiness(edge)` is the cheap part `/readyz` shows: "degraded" when the last backup failed,
the newest snapshot is stale or the replica was found stale (no S3 call on a probe).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from typing import Any

import structlog

from checkout.core import audit, outbox
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.payments import events, refunds

log = structlog.get_logger("checkout.alerts")


def recipients(edge: "Edge") -> list[tuple[str, int | None]]:
    rows = edge.db.execute("SELECT id, email FROM users WHERE role = 'admin' AND disabled_at IS NULL"
                           " AND anonymised_at IS NULL ORDER BY id").fetchall()
    out: list[tuple[str, int | None]] = [(r["email"], r["id"]) for r in rows]
    known = {e.lower() for e, _ in out}
    for addr in (a.strip() for a in edge.settings.ALERT_EMAILS.split(",")):
        if addr and addr.lower() not in known:
            out.append((addr, None))
            known.add(addr.lower())
    return out


def _sentry(kind: str, message: str) -> None:
    """The alert as a Sentry message when Sentry is started (SENTRY_DSN); scrubbed like any event."""
    import sentry_sdk

    if sentry_sdk.get_client().is_active():
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("alert", kind)
            sentry_sdk.capture_message(f"{kind}: {message}", level="error")


def raise_alert(edge: "Edge", kind: str, message: str) -> bool:
    """Record an alert; mail the admins unless the same kind was mailed recently. True when mailed."""
    now = edge.clock()
    with atomic(edge.db):
        row = edge.db.execute("SELECT * FROM alerts WHERE kind = ?", (kind,)).fetchone()
        if row is not None and now - parse_iso(row["last_sent_at"]) < edge.settings.ALERT_REPEAT_MINUTES * 60:
            edge.db.execute("UPDATE alerts SET message = ?, count = count + 1 WHERE kind = ?", (message, kind))
            return False
        first_at = row["first_at"] if row is not None else iso(now)
        count = row["count"] + 1 if row is not None else 1
        edge.db.execute("INSERT INTO alerts (kind, message, first_at, last_sent_at, count) VALUES (?,?,?,?,?)"
                        " ON CONFLICT(kind) DO UPDATE SET message = excluded.message,"
                        " last_sent_at = excluded.last_sent_at, count = excluded.count",
                        (kind, message, first_at, iso(now), count))
        for addr, user_id in recipients(edge):
            outbox.enqueue(edge, "alert", addr, user_id, kind=kind, message=message, at=iso(now),
                           count=count, first_at=first_at)
        audit.record(edge, "ops.alert", kind=kind)
    log.error("alert", kind=kind, message=message)
    _sentry(kind, message)
    return True


def clear(edge: "Edge", kind: str) -> None:
    edge.db.execute("DELETE FROM alerts WHERE kind = ?", (kind,))


def active(edge: "Edge") -> list[dict[str, Any]]:
    return [dict(r) for r in edge.db.execute("SELECT * FROM alerts ORDER BY kind").fetchall()]


def set_state(edge: "Edge", name: str, value: dict[str, Any]) -> None:
    edge.db.execute("INSERT INTO ops_state (name, value, updated_at) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE"
                    " SET value = excluded.value, updated_at = excluded.updated_at",
                    (name, json.dumps(value, sort_keys=True), edge.clock.iso()))


def get_state(edge: "Edge", name: str) -> dict[str, Any] | None:
    row = edge.db.execute("SELECT value FROM ops_state WHERE name = ?", (name,)).fetchone()
    return json.loads(row["value"]) if row else None


def _tables(edge: "Edge") -> set[str]:
    return set(edge.db.table_names())


# --- checks: each returns a one-line message when something is wrong -------------------------

def check_backups(edge: "Edge") -> str | None:
    """The last snapshot failed, or the newest good one is older than BACKUP_STALE_HOURS."""
    if "backup_runs" not in _tables(edge):
        return None
    last = edge.db.execute("SELECT * FROM backup_runs WHERE kind = 'snapshot' ORDER BY id DESC LIMIT 1").fetchone()
    if last is None:
        return "no backup snapshot has been taken yet" if edge.settings.production else None
    if not last["ok"]:
        return last["error"] or "the last backup failed"
    age = edge.clock() - parse_iso(last["finished_at"])
    limit = edge.settings.BACKUP_STALE_HOURS * 3600
    if age > limit:
        return f"the newest backup snapshot is {age / 3600:.1f} hours old (limit {limit / 3600:g})"
    return None


def check_replica(edge: "Edge") -> str | None:
    """Litestream left database changes unreplicated for longer than REPLICA_STALE_MINUTES."""
    state = get_state(edge, "replica") if "ops_state" in _tables(edge) else None
    if not state or not state.get("stale"):
        return None
    return state.get("message") or "the Litestream replica is stale"


def check_dead_emails(edge: "Edge") -> str | None:
    since = edge.clock.iso(-86400)
    n = edge.db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'dead' AND created_at >= ? AND template != 'alert'",
                        (since,)).fetchone()[0]
    return f"{n} email(s) could not be delivered in the last 24 hours (see the admin outbox)" if n else None


def check_webhook_signatures(edge: "Edge") -> str | None:
    if "rejected_webhooks" not in _tables(edge):
        return None
    n = events.rejected_since(edge, edge.clock.iso(-3600))
    limit = edge.settings.WEBHOOK_FAILURE_THRESHOLD
    return f"{n} webhooks failed their signature check in the last hour (threshold {limit})" if n > limit else None


def check_flagged_orders(edge: "Edge") -> str | None:
    if "orders" not in _tables(edge):
        return None
    n = edge.db.execute("SELECT COUNT(*) FROM orders WHERE status = 'flagged'").fetchone()[0]
    return f"{n} order(s) are flagged (amount mismatch) and need review" if n else None


def check_payouts(edge: "Edge") -> str | None:
    if "payouts" not in _tables(edge):
        return None
    n = edge.db.execute("SELECT COUNT(*) FROM payouts WHERE status IN ('failed', 'reversed') AND updated_at >= ?",
                        (edge.clock.iso(-86400),)).fetchone()[0]
    return f"{n} payout(s) failed or were reversed in the last 24 hours" if n else None


def check_payouts_waiting(edge: "Edge") -> str | None:
    """Payouts Paystack holds for an OTP, or in flight with no final word for too long."""
    if "payouts" not in _tables(edge):
        return None
    otp = edge.db.execute("SELECT COUNT(*) FROM payouts WHERE status = 'pending' AND paystack_status = 'otp'").fetchone()[0]
    stale = edge.db.execute("SELECT COUNT(*) FROM payouts WHERE status = 'pending' AND COALESCE(paystack_status, '')"
                            " != 'otp' AND updated_at <= ?",
                            (edge.clock.iso(-2 * edge.settings.TRANSFER_VERIFY_AFTER_SECONDS),)).fetchone()[0]
    parts = []
    if otp:
        parts.append(f"{otp} payout(s) wait for the transfer OTP: enter it at /admin/payments")
    if stale:
        parts.append(f"{stale} payout(s) have been in flight for over "
                     f"{2 * edge.settings.TRANSFER_VERIFY_AFTER_SECONDS / 3600:g} hours with no outcome from Paystack")
    return "; ".join(parts) or None


def check_refunds_attention(edge: "Edge") -> str | None:
    """Refunds Paystack could not complete (needs-attention, failed) and refunds made in its
    dashboard that match no purchase."""
    if "refunds" not in _tables(edge):
        return None
    stuck = refunds.attention_count(edge)
    unmatched = edge.db.execute("SELECT COUNT(*) FROM payment_events WHERE outcome = 'unmatched_refund'"
                                " AND received_at >= ?", (edge.clock.iso(-7 * 86400),)).fetchone()[0]
    parts = []
    if stuck:
        parts.append(f"{stuck} refund(s) need attention at Paystack: see /admin/payments")
    if unmatched:
        parts.append(f"{unmatched} refund(s) from Paystack matched no purchase in the last 7 days: see /admin/payments")
    return "; ".join(parts) or None


def check_disk(edge: "Edge") -> str | None:
    usage = shutil.disk_usage(edge.settings.database_path.parent)
    used = 100.0 * (usage.total - usage.free) / usage.total
    if used > edge.settings.DISK_ALERT_PERCENT:
        return f"the database disk is {used:.0f}% full ({usage.free // 2**20} MiB free)"
    return None


CHECKS: list[tuple[str, Callable[["Edge"], str | None]]] = [
    ("backup_failed", check_backups), ("replica_stale", check_replica), ("dead_emails", check_dead_emails),
    ("webhook_signatures", check_webhook_signatures), ("flagged_orders", check_flagged_orders),
    ("payouts_failing", check_payouts), ("payouts_waiting", check_payouts_waiting),
    ("refunds_attention", check_refunds_attention), ("disk_full", check_disk),
]


def run_checks(edge: "Edge") -> dict[str, str]:
    """Run every check; raise the alerts that fire, clear the ones that pass. Returns the firing ones."""
    firing: dict[str, str] = {}
    for kind, check in edge.hooks.alert_checks:
        try:
            message = check(edge)
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
            message = f"the {kind} check itself failed: {type(exc).__name__}: {exc}"
        if message:
            firing[kind] = message
            raise_alert(edge, kind, message)
        else:
            clear(edge, kind)
    return firing


def readiness(edge: "Edge") -> dict[str, Any]:
    """For /readyz: never unready (the site still serves), but "degraded" when backups are at risk."""
    try:
        reasons = [m for m in (check_backups(edge), check_replica(edge)) if m]
    except Exception as exc:  # noqa: BLE001 - a probe must answer even when this part cannot
        reasons = [f"backup status unavailable: {type(exc).__name__}"]
    return {"ok": True, "degraded": bool(reasons), "reasons": reasons}
