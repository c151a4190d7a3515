"""The admin console's home: today's and this month's figures per currency, from the ledger's
daily roll-up, and what needs a person, each a link to its page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core.clock import parse_iso
from checkout.delivery import views
from checkout.ops.alerts import get_state
from checkout.payments import reports
from checkout.web.auth import requires
from checkout.web.base import edge_of
from checkout.web.pages import render
from digitaldock.money import format_money

FIGURES = (("gross", "Gross sales"), ("fees", "Platform fees"), ("costs", "Paystack costs"), ("refunds", "Refunds"),
           ("net_revenue", "Net revenue"))


def period_figures(edge: Any, r: reports.Range) -> dict[str, Any]:
    """Money per currency, orders, new accounts and conversion over a range of days."""
    sales = reports.sales(edge.db, r, "day", "currency")
    start, end = r.start.isoformat(), (r.end + dt.timedelta(days=1)).isoformat()
    new = {row[0]: row[1] for row in edge.db.execute(
        "SELECT role, COUNT(*) FROM users WHERE created_at >= ? AND created_at < ? GROUP BY role", (start, end))}
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
                          " ORDER BY id DESC LIMIT 1").fetchone()
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


@requires("admin", forbidden="This page is for administrators.")
async def home(request: Request) -> Response:
    edge = edge_of(request)
    today = dt.date.fromisoformat(edge.clock.iso()[:10])
    return render(request, "edge/admin_home.html",
                  today=period_figures(edge, reports.Range(today, today)),
                  month=period_figures(edge, reports.Range(today.replace(day=1), today)),
                  day=today.isoformat(), month_name=today.strftime("%B %Y"), items=attention(edge))


ROUTES = [Route("/admin", home)]
