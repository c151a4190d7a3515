"""The append-only audit log: who did what to whom, when, from where.

Rows are only ever inserted (triggers refuse UPDATE, and DELETE outside the retention job).
Details never contain secrets: callers pass identifiers and outcomes, not passwords or tokens.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from checkout.core.context import Edge

ACTIONS = (
    "user.registered", "user.email_verified", "user.login", "user.login_failed", "user.locked",
    "user.unlocked", "user.registration_attempt",
    "user.logout", "user.logout_everywhere", "user.password_changed", "user.password_reset_requested",
    "user.password_reset", "user.email_change_requested", "user.email_changed", "user.role_changed", "user.consent",
    "user.export", "user.deletion_requested", "user.anonymised", "user.created_by_cli",
    "admin.email_resent", "api.token_issued", "api.token_reuse_detected",
    "api.personal_token_created", "api.personal_token_revoked", "webhook.endpoint_created", "webhook.endpoint_deleted",
    "webhook.secret_rotated", "webhook.endpoint_disabled",
    "retention.run", "ops.backup", "ops.prune", "ops.restore", "ops.alert",
    "payment.refund_requested", "payment.refund_decided", "payment.flagged_refund_requested", "payment.seller_linked", "payment.guest_claimed",
    "payment.payout_otp", "payment.dashboard_refund",
    "payment.payouts_run",
    "payment.refund_processed", "payment.refund_failed",  # the buyer's refund, step by step (#15)
    "payment.discount_created", "payment.discount_paused", "payment.discount_resumed",
    "payment.affiliate_invited", "payment.affiliate_changed",
    "payment.payout_account_changed", "payment.payout_account_change_cancelled",
    "submission.approved", "submission.rejected",
    # the consoles (issue #16)
    "admin.user_banned", "admin.user_unbanned", "admin.user_verified", "admin.user_unverified",
    "admin.content_change", "moderation.report_filed", "moderation.report_decided", "moderation.claim_filed",
    "moderation.claim_decided", "seller.product_unlisted", "seller.product_relisted", "seller.product_deleted",
    "seller.profile_changed", "seller.created", "ledger.statement_sealed",
    # license keys (issue #18)
    "license.disable", "license.enable", "license.reset",
    # reviews (issue #14)
    "review.created", "review.edited", "review.deleted", "review.approved", "review.hidden", "review.reported",
    "review.replied",
)


def record(edge: "Edge", action: str, *, actor_id: int | None = None, subject_id: int | None = None,
           ip: str | None = None, **detail: Any) -> None:
    assert action in ACTIONS, action
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    edge.db.execute(
        "INSERT INTO audit_log (at, action, actor_id, subject_id, ip, request_id, detail) VALUES (?,?,?,?,?,?,?)",
        (edge.clock.iso(), action, actor_id, subject_id, ip, request_id, json.dumps(detail, sort_keys=True)))


def recent(edge: "Edge", limit: int = 200, subject_id: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM audit_log"
    args: tuple = ()
    if subject_id is not None:
        sql += " WHERE subject_id = ?"
        args = (subject_id,)
    rows = edge.db.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, limit)).fetchall()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]


def acted_by(edge: "Edge", actor_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """What an account did to others (or to nothing in particular), newest first."""
    rows = edge.db.execute("SELECT * FROM audit_log WHERE actor_id = ? AND (subject_id IS NULL OR subject_id != ?)"
                           " ORDER BY id DESC LIMIT ?", (actor_id, actor_id, limit)).fetchall()
    return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]
