"""The admin console's reports and charts: sales and revenue for any range by day, week or month,
per currency, seller, product or category, with the tie-out against the ledger's balances;
payouts; the platform's metrics. Every report downloads as CSV (`?format=csv`).

Reports read the ledger's daily roll-up on a read-only connection in a worker thread
(`off_loop`), so a large one never holds up another request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.ops import platform_metrics
from checkout.payments import reports
from checkout.web import charts, params
from checkout.web.auth import requires
from checkout.web.base import edge_of, off_loop
from checkout.web.pages import render
from digitaldock.money import format_money

FORBIDDEN = "This page is for administrators."
MAX_ROWS = 2000  # rows a report page shows; the CSV has every one


def csv_response(text: str, name: str) -> Response:
    """A CSV download; the file name says what and which range."""
    return Response(text.encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def today(edge: Any) -> dt.date:
    return dt.date.fromisoformat(edge.clock.iso()[:10])


def categories(edge: Any) -> dict[str, str]:
    """Product slug → category slug, from the loaded catalogue, for lines sold before the
    category was recorded on them."""
    return {slug: p.category for slug, p in edge.catalog.current().products.items() if p.category}


def money_cells(row: dict[str, Any], names: list[str]) -> list[str]:
    return [format_money(row[n], row["currency"]) for n in names]


def sales_view(report: reports.Sales) -> dict[str, Any]:
    """The report's table, totals and one chart per currency, as the page shows them."""
    cols = report.columns()
    money = [c for c in cols if c in reports.MONEY]
    counts = [c for c in cols if c in ("orders", "units", "refunded_units")]
    head = [reports.LABELS[c] for c in cols]
    rows = [[row.get(c, "") if c not in money else format_money(row[c], row["currency"]) for c in cols]
            for row in report.rows]
    foot = [[("Total" if c == "period" else t["currency"] if c == "currency" else
              format_money(t[c], t["currency"]) if c in money else t[c] if c in counts else "") for c in cols]
            for t in ({"currency": cur, **tot} for cur, tot in report.totals.items())]
    numeric = tuple(i for i, c in enumerate(cols) if c in money or c in counts)
    figure = "net_revenue" if report.group == "currency" else "net_sales"
    drawn = []
    for cur in report.currencies:
        gross, net = report.series(cur, "gross"), report.series(cur, figure)
        labels = [p for p, _ in gross]
        chart = charts.chart(f"Gross sales and {reports.LABELS[figure].lower()} per {report.period}, {cur}", labels,
                             [("Gross sales", [v for _, v in gross]), (reports.LABELS[figure], [v for _, v in net])],
                             currency=cur, kind="bar" if len(labels) <= 31 else "line")
        table = {"columns": [reports.LABELS["period"], "Gross sales", reports.LABELS[figure]],
                 "rows": [[p, format_money(g, cur), format_money(n, cur)] for (p, g), (_, n) in zip(gross, net)]}
        drawn.append((chart, table))
    return {"head": head, "rows": rows, "foot": foot, "numeric": numeric, "charts": drawn}


def _query(request: Request) -> tuple[reports.Range, str, str]:
    edge = edge_of(request)
    q = request.query_params
    r = reports.parse_range(q.get("from"), q.get("to"), today(edge))
    return r, reports.choice(q.get("period"), reports.PERIODS, "period", "day"), \
        reports.choice(q.get("group"), reports.GROUPS, "group", "currency")


@requires("admin", forbidden=FORBIDDEN)
async def sales_page(request: Request) -> Response:
    edge = edge_of(request)
    r, period, group = _query(request)
    cats = categories(edge)
    csv = request.query_params.get("format") == "csv"
    report = await off_loop(request, lambda db: reports.sales(db, r, period, group, categories=cats,
                                                              limit=None if csv else MAX_ROWS))
    if csv:
        return csv_response(reports.sales_csv(report), f"sales-{group}-{period}-{r.start}-{r.end}")
    return render(request, "edge/admin_reports.html", report=report, view=sales_view(report), range=r, period=period,
                  group=group, periods=reports.PERIODS, groups=reports.GROUPS, more=report.more, max_rows=MAX_ROWS,
                  csv=f"/admin/reports?from={r.start}&to={r.end}&period={period}&group={group}&format=csv")


@requires("admin", forbidden=FORBIDDEN)
async def tie_out_page(request: Request) -> Response:
    """Each all-time report total beside the balance the ledger's entries give (reads every entry
    of the accounts concerned, so it has a page of its own)."""
    tie = await off_loop(request, reports.tie_out)
    if request.query_params.get("format") == "csv":
        return csv_response(reports.csv_text(["currency", "figure", "report", "ledger", "ok"], tie, {
            "figure": "Figure", "report": "Reports (minor units)", "ledger": "Ledger (minor units)", "ok": "Agree"}),
            "reports-against-the-ledger")
    for t in tie:
        t["report_display"], t["ledger_display"] = (format_money(t["report"], t["currency"]),
                                                    format_money(t["ledger"], t["currency"]))
    return render(request, "edge/admin_tie_out.html", tie=tie)


@requires("admin", forbidden=FORBIDDEN)
async def payouts_page(request: Request) -> Response:
    edge = edge_of(request)
    r = reports.parse_range(request.query_params.get("from"), request.query_params.get("to"), today(edge), 90)
    found = await off_loop(request, lambda db: reports.payouts(db, r))
    if request.query_params.get("format") == "csv":
        return csv_response(reports.payouts_csv(found), f"payouts-{r.start}-{r.end}")
    for p in found["rows"]:
        p["display"] = format_money(p["amount"], p["currency"])
    totals = [{"currency": c, **{k: (format_money(v, c) if k != "count" else v) for k, v in t.items()}}
              for c, t in found["totals"].items()]
    return render(request, "edge/admin_payouts_report.html", payouts=found["rows"], totals=totals, range=r,
                  csv=f"/admin/reports/payouts?from={r.start}&to={r.end}&format=csv")


METRIC_CHARTS = (
    ("Requests per second", [("Requests per second", "requests_per_s")], "req/s"),
    ("Latency (milliseconds)", [("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms")], "ms"),
    ("Server errors (5xx) per second", [("Errors per second", "errors_per_s")], "/s"),
    ("Webhook lag, 95th percentile (seconds)", [("p95", "lag_p95_s")], "s"),
    ("Email queue", [("Waiting", "outbox"), ("Dead", "dead")], ""),
)


@requires("admin", forbidden=FORBIDDEN)
async def metrics_page(request: Request) -> Response:
    edge = edge_of(request)
    hours = params.bounded_int(request.query_params.get("hours", "24"), "hours", 1, 24 * 31)
    points = platform_metrics.series(edge, hours)
    columns = ["at", "requests_per_s", "errors_per_s", "error_share", "p50_ms", "p95_ms", "p99_ms", "lag_p95_s",
               "outbox", "dead"]
    if request.query_params.get("format") == "csv":
        return csv_response(reports.csv_text(columns, points, {
            "at": "Time (UTC)", "requests_per_s": "Requests per second", "errors_per_s": "5xx per second",
            "error_share": "5xx share (%)", "p50_ms": "p50 latency (ms)", "p95_ms": "p95 latency (ms)",
            "p99_ms": "p99 latency (ms)", "lag_p95_s": "Webhook lag p95 (s)", "outbox": "Emails waiting",
            "dead": "Dead emails"}), f"platform-{hours}h")
    labels = [p["at"][11:16] if hours <= 48 else p["at"][5:16].replace("T", " ") for p in points]
    drawn = []
    for title, lines, unit in METRIC_CHARTS:
        series = [(name, [p[key] if p[key] is not None else None for p in points]) for name, key in lines]
        table = {"columns": ["Time (UTC)", *[name for name, _ in lines]],
                 "rows": [[p["at"][:16].replace("T", " "), *[("" if p[k] is None else p[k]) for _, k in lines]]
                          for p in points]}
        drawn.append((charts.chart(title, labels, series, unit=unit), table))
    last = points[-1] if points else None
    return render(request, "edge/admin_metrics.html", charts=drawn, hours=hours, last=last,
                  sampling=edge.settings.METRICS_SAMPLE_SECONDS, csv=f"/admin/metrics?hours={hours}&format=csv")


ROUTES = [
    Route("/admin/reports", sales_page),
    Route("/admin/reports/payouts", payouts_page),
    Route("/admin/reports/ledger", tie_out_page),
    Route("/admin/metrics", metrics_page),
]
