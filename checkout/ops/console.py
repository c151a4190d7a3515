"""What the admin console shows, gathered from every area: today's and this month's figures,
what needs a person, one account's page, and audit entries with people's names. Ops sits above
accounts, payments and delivery, so it may read them all; the web layer only renders this."""

from __future__ import annotations

import datetime as dt
from typing import Any

from checkout.accounts import standing as accounts_standing
from checkout.accounts import users
from checkout.core import audit
from checkout.core.clock import parse_iso
from checkout.delivery import standing, uploads, views
from checkout.ops.alerts import get_state
from checkout.payments import orders, payouts, purchases, reports
from digitaldock.money import format_money

FIGURES = (("gross", "Gross sales"), ("fees", "Platform fees"), ("costs", "Paystack costs"), ("refunds", "Refunds"),
           ("net_revenue", "Net revenue"))


def period_figures(edge: Any, r: reports.Range) -> dict[str, Any]:
    """Money per currency, orders, new accounts and conversion over a range of days."""
    sales = reports.sales(edge.db, r, "day", "currency")
    start, end = r.start.isoformat(), (r.end + dt.timedelta(days=1)).isoformat()
    new = users.new_accounts(edge, start, end)
    orders = sum(t["orders"] for t in sales.totals.values())
    seen = views.total(edge, r.start.isoformat(), r.end.isoformat())
    money = [{"currency": c, "orders": t["orders"],
              "figures": [(label, format_money(t[key], c)) for key, label in FIGURES]}
             for c, t in sales.totals.items()]
    return {"money": money, "orders": orders, "buyers": new.get("buyer", 0), "sellers": new.get("seller", 0),
            "views": seen, "conversion": views.conversion(orders, seen)}


def _age(edge: Any, when: str | None) -> str:
    if not when:
        return "never"
    seconds = max(0.0, edge.clock() - parse_iso(when))
    if seconds < 3600:
        return f"{int(seconds // 60)} minutes ago"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} hours ago"
    return f"{int(seconds // 86400)} days ago"


def attention(edge: Any) -> list[dict[str, Any]]:
    """What needs a person now, each with its count and the page that handles it."""
    db = edge.db

    def count(sql: str, *args: Any) -> int:
        return int(db.execute(sql, args).fetchone()[0])

    month_ago = edge.clock.iso(-30 * 86400)
    items = [
        {"label": "Product submissions waiting for review", "link": "/admin/moderation#submissions",
         "count": count("SELECT COUNT(*) FROM submissions WHERE status = 'pending'")},
        {"label": "Reported products", "link": "/admin/moderation#reports",
         "count": count("SELECT COUNT(*) FROM product_reports WHERE status = 'open'")},
        {"label": "Sellers asking to manage a seller page", "link": "/admin/moderation#claims",
         "count": count("SELECT COUNT(*) FROM seller_claims WHERE status = 'open'")},
        {"label": "Flagged payments (amount or currency differed)", "link": "/admin/moderation#payments",
         "count": count("SELECT COUNT(*) FROM orders o WHERE o.status = 'flagged' AND NOT EXISTS (SELECT 1 FROM"
                        " flagged_refunds f WHERE f.order_id = o.id AND f.status = 'processed')")},
        {"label": "Refund requests to decide", "link": "/admin/refunds",
         "count": count("SELECT COUNT(*) FROM refunds WHERE status = 'requested'")},
        {"label": "Payouts that failed or were reversed (30 days)", "link": "/admin/reports/payouts",
         "count": count("SELECT COUNT(*) FROM payouts WHERE status IN ('failed', 'reversed') AND updated_at >= ?",
                        month_ago)},
        {"label": "Emails that could not be delivered", "link": "/admin/emails?status=dead",
         "count": count("SELECT COUNT(*) FROM outbox WHERE status = 'dead'")},
    ]
    names = {name for name, _ in edge.hooks.moderation_queues}
    for name, queue in edge.hooks.moderation_queues:
        found = queue(edge)
        items.append({"label": found["title"], "link": found.get("link", "/admin/moderation"), "count": found["count"]})
    if "reviews" not in names:
        items.append({"label": "Reported reviews", "link": "/admin/moderation#reviews", "count": None,
                      "note": "reviews are not built yet"})
    snapshot = db.execute("SELECT finished_at FROM backup_runs WHERE kind = 'snapshot' AND ok = 1"
                          " ORDER BY id DESC LIMIT 1").fetchone()  # ops' own table
    stale = edge.settings.BACKUP_STALE_HOURS * 3600
    age = edge.clock() - parse_iso(snapshot[0]) if snapshot else None
    items.append({"label": "Newest backup snapshot", "link": "/readyz", "count": None,
                  "note": _age(edge, snapshot[0] if snapshot else None),
                  "bad": age is None and edge.settings.production or (age is not None and age > stale)})
    replica = get_state(edge, "replica") or {}
    items.append({"label": "Litestream replica", "link": "/readyz", "count": None,
                  "note": ("not configured" if not replica.get("configured") else
                           f"newest upload {_age(edge, replica.get('replica_newest'))}"
                           + (" (stale)" if replica.get("stale") else "")),
                  "bad": bool(replica.get("stale"))})
    return items


def with_names(edge: Any, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = users.names_of(edge, {e["actor_id"] for e in entries} | {e["subject_id"] for e in entries})
    for e in entries:
        detail = dict(e["detail"])
        by = detail.pop("by", None)
        e["actor"] = by or names.get(e["actor_id"]) or ("" if e["actor_id"] in (None, 0) else f"account {e['actor_id']}")
        e["subject"] = names.get(e["subject_id"]) or ("" if e["subject_id"] is None else f"account {e['subject_id']}")
        e["detail_text"] = ", ".join(f"{k}: {v}" for k, v in sorted(detail.items()) if v not in (None, "", [], {}))
    return entries


def user_details(edge: Any, user_id: int) -> dict[str, Any]:
    """Everything the user page (and the API) shows about one account."""
    user = accounts_standing.account(edge, user_id)
    found = orders.of_user(edge, user_id, 100)
    for o in found:
        o["total"] = format_money(o["amount"], o["currency"])
    bought = purchases.of_user(edge, user_id, 200)
    sellers = standing.sellers_of(edge, user_id)
    listed = edge.catalog.current().products
    products = [{"slug": slug, "title": p.title, "seller": p.seller, "price": p.price.display()}
                for slug, p in sorted(listed.items()) if p.seller in sellers]
    submitted = uploads.submissions_list(edge, user_id, 100)
    trail = with_names(edge, [e for e in audit.recent(edge, 200, subject_id=user_id)])
    acted = with_names(edge, audit.acted_by(edge, user_id, 100))
    held = sorted(set(sellers) & payouts.held_sellers(edge))
    return {"account": accounts_standing.describe(user), "row": user, "orders": found, "purchases": bought,
            "sellers": sellers, "products": products, "submissions": submitted, "audit": trail, "acted": acted,
            "held": held}
