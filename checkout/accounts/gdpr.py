"""Data-subject rights and retention: export, deletion request, anonymisation, the retention job.

Retention table (mirrors the Privacy Policy's "Data retention" section):

| data                                  | kept                                             |
|---------------------------------------|--------------------------------------------------|
| account of a user who asked deletion  | disabled at once, anonymised after DELETION_GRACE_DAYS (30) |
| audit log, sessions, used tokens      | LOG_RETENTION_DAYS (30)                          |
| email records (outbox, sent or dead)  | EMAIL_RETENTION_DAYS (365)                       |
| consent records                       | as long as the account; IP removed on anonymisation |
| purchases, ledger, downloads          | kept (tax and accounting law), linked only to the anonymised account |
| files of a product gone from catalog.json | PRODUCT_FILE_RETENTION_DAYS (90), unless a buyer still has download rights (checkout/product_retention.py) |
"""

from __future__ import annotations

from typing import Any

import structlog

from checkout.accounts import lockout
from checkout.core import audit, outbox
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic

log = structlog.get_logger("checkout.gdpr")
EXPORT_VERSION = 1
# Tables later issues add; exported when present so the export stays complete as the edge grows.
OPTIONAL_USER_TABLES = {"orders": "user_id", "purchases": "user_id", "refunds": "user_id",
                        "wishlist_items": "user_id", "downloads": "user_id", "reviews": "user_id",
                        "review_reports": "user_id", "review_votes": "user_id", "email_preferences": "user_id",
                        "discount_uses": "user_id", "affiliates": "user_id",  # promotions (issue #17)
                        # issue #18: keys and invoices belong to the user through a purchase or an order
                        "license_keys": "(SELECT user_id FROM purchases p WHERE p.id = license_keys.purchase_id)",
                        "invoices": "(SELECT user_id FROM orders o WHERE o.id = invoices.order_id)"}

_USER_FIELDS = ("id", "email", "display_name", "role", "created_at", "email_verified_at",
                "password_changed_at", "disabled_at", "deletion_requested_at")


def export(edge: "Edge", user_id: int) -> dict[str, Any]:
    """Everything held about one user, as plain JSON-able data (no password hash, no token hashes)."""
    db = edge.db
    user = db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    rows = lambda sql: [dict(r) for r in db.execute(sql, (user_id,)).fetchall()]  # noqa: E731
    data: dict[str, Any] = {
        "export_version": EXPORT_VERSION,
        "generated_at": edge.clock.iso(),
        "profile": {k: user[k] for k in _USER_FIELDS},
        "consents": rows("SELECT document, version, accepted_at, ip FROM consents WHERE user_id = ? ORDER BY id"),
        "sessions": rows("SELECT created_at, expires_at, last_seen_at, ip, user_agent FROM sessions WHERE user_id = ?"),
        "api_tokens": rows("SELECT created_at, expires_at, used_at, revoked_at FROM refresh_tokens WHERE user_id = ?"),
        "emails": rows("SELECT template, to_addr, subject, status, created_at, sent_at FROM outbox WHERE user_id = ? ORDER BY id"),
        "audit_log": rows("SELECT at, action, ip, detail FROM audit_log WHERE subject_id = ? ORDER BY id"),
    }
    existing = set(db.table_names())
    for table, column in OPTIONAL_USER_TABLES.items():
        data[table] = rows(f"SELECT * FROM {table} WHERE {column} = ?") if table in existing else []
    return data


def request_deletion(edge: "Edge", user: Any, ip: str | None) -> str:
    """Disable the account now and schedule anonymisation; returns the anonymisation date."""
    now = edge.clock()
    when = iso(now + edge.settings.DELETION_GRACE_DAYS * 86400)
    with atomic(edge.db):
        edge.db.execute("UPDATE users SET disabled_at = ?, deletion_requested_at = ? WHERE id = ?",
                        (iso(now), iso(now), user["id"]))
        edge.db.execute("DELETE FROM sessions WHERE user_id = ?", (user["id"],))
        edge.db.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                        (iso(now), user["id"]))
        edge.db.execute("UPDATE personal_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                        (iso(now), user["id"]))
        audit.record(edge, "user.deletion_requested", actor_id=user["id"], subject_id=user["id"], ip=ip)
        outbox.enqueue(edge, "deletion", user["email"], user["id"], name=user["display_name"],
                       anonymise_on=when[:10])
    return when


def anonymise(edge: "Edge", user_id: int) -> None:
    with atomic(edge.db):
        edge.db.execute(
            "UPDATE users SET email = ?, display_name = 'Deleted user', password_hash = '', anonymised_at = ?,"
            " disabled_at = COALESCE(disabled_at, ?), failed_logins = 0, locked_until = NULL WHERE id = ?",
            (f"deleted-{user_id}@deleted.invalid", edge.clock.iso(), edge.clock.iso(), user_id))
        edge.db.execute("UPDATE consents SET ip = NULL WHERE user_id = ?", (user_id,))
        edge.db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        edge.db.execute("DELETE FROM refresh_tokens WHERE user_id = ?", (user_id,))
        edge.db.execute("UPDATE personal_tokens SET revoked_at = COALESCE(revoked_at, ?), last_used_ip = NULL"
                        " WHERE user_id = ?", (edge.clock.iso(), user_id))
        edge.db.execute("DELETE FROM outbox WHERE user_id = ? AND status IN ('sent', 'dead')", (user_id,))
        if "orders" in edge.db.table_names():  # orders are kept (accounting) but lose the address
            edge.db.execute("UPDATE orders SET email = ? WHERE user_id = ?", (f"deleted-{user_id}@deleted.invalid", user_id))
            edge.db.execute("DELETE FROM cart_items WHERE owner = ?", (f"u:{user_id}",))
            edge.db.execute("DELETE FROM wishlist_items WHERE user_id = ?", (user_id,))
        audit.record(edge, "user.anonymised", subject_id=user_id)


def prune_personal_data(edge: "Edge", now: float) -> dict[str, int]:
    """Retention task: the rows of the table above that belong to accounts, the audit log and
    the outbox; returns what was removed, by kind."""
    s = edge.settings
    report = {"accounts_anonymised": 0, "audit_rows_deleted": 0, "sessions_deleted": 0,
              "refresh_tokens_deleted": 0, "used_tokens_deleted": 0, "emails_deleted": 0,
              "sign_in_failures_deleted": 0}
    due = edge.db.execute(
        "SELECT id FROM users WHERE deletion_requested_at IS NOT NULL AND anonymised_at IS NULL"
        " AND deletion_requested_at <= ?", (iso(now - s.DELETION_GRACE_DAYS * 86400),)).fetchall()
    for row in due:
        anonymise(edge, row["id"])
        report["accounts_anonymised"] += 1
    log_cutoff = iso(now - s.LOG_RETENTION_DAYS * 86400)
    with atomic(edge.db):
        edge.db.execute("INSERT INTO retention_lock VALUES ('retention')")
        report["audit_rows_deleted"] = edge.db.execute("DELETE FROM audit_log WHERE at < ?", (log_cutoff,)).rowcount
        edge.db.execute("DELETE FROM retention_lock")
        report["sessions_deleted"] = edge.db.execute(
            "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?", (iso(now), log_cutoff)).rowcount
        report["refresh_tokens_deleted"] = edge.db.execute(
            "DELETE FROM refresh_tokens WHERE expires_at < ? OR (revoked_at IS NOT NULL AND revoked_at < ?)"
            " OR (used_at IS NOT NULL AND used_at < ?)", (iso(now), log_cutoff, log_cutoff)).rowcount
        report["used_tokens_deleted"] = edge.db.execute(
            "DELETE FROM used_tokens WHERE used_at < ?", (log_cutoff,)).rowcount
        report["emails_deleted"] = edge.db.execute(
            "DELETE FROM outbox WHERE status IN ('sent', 'dead') AND created_at < ?",
            (iso(now - s.EMAIL_RETENTION_DAYS * 86400),)).rowcount
        if "sign_in_failures" in edge.db.table_names():
            report["sign_in_failures_deleted"] = lockout.prune(edge, now)
    return report
