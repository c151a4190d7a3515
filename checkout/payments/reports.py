"""Sales, revenue and payout reports, from the ledger.

Reports read `ledger_daily`, the ledger rolled up per UTC day, currency, seller, product and
category by a trigger as each journal is posted (0011_consoles.sql): a report over any range
reads a few thousand rows however many million entries the ledger holds, and `ledger.check`
proves the roll-up equals the entries. `tie_out` puts each report total beside the balance
`digitaldock ledger balances` derives from the entries, so the admin sees that they agree to
the minor unit.

Amounts never mix currencies: every row and every total is per currency. Money owed or kept is
positive (the ledger's credits are negated here).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import sqlite_utils

from checkout.core.errors import ValidationFailed
from checkout.payments.ledger import COSTS, FEES, RECEIVABLE, ROLLUP_FIGURES
from digitaldock.money import CURRENCIES, to_decimal

PERIODS = ("day", "week", "month")
GROUPS = ("currency", "seller", "product", "category")
FIGURES = ROLLUP_FIGURES
MONEY = ("gross", "refunds", "fees", "costs", "seller_net", "net_revenue", "net_sales", "amount", "balance", "owed")
MAX_DAYS = 3700  # ten years and a bit: a range is a report, not a denial of service
UNCATEGORISED = "(no category)"

# what each figure means, as the pages and the CSV header say it
LABELS = {"period": "Period", "currency": "Currency", "seller": "Seller", "product": "Product",
          "category": "Category", "orders": "Orders", "units": "Units sold", "refunded_units": "Units refunded",
          "gross": "Gross sales", "refunds": "Refunds", "fees": "Platform fees", "costs": "Paystack costs",
          "seller_net": "Seller earnings", "net_revenue": "Net revenue", "net_sales": "Net sales"}


@dataclass(frozen=True)
class Range:
    """A closed range of UTC days."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range(self.days)]


def parse_range(start: str | None, end: str | None, today: dt.date, default_days: int = 30) -> Range:
    """The range a form or a query string names (YYYY-MM-DD, both ends included); the last
    `default_days` days up to `today` when both are empty. A bad date is a 422 naming its field."""
    problems: dict[str, str] = {}

    def day(value: str | None, name: str) -> dt.date | None:
        if value in (None, ""):
            return None
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            problems[name] = "must be a date such as 2026-11-01"
            return None

    first, last = day(start, "from"), day(end, "to")
    if problems:
        raise ValidationFailed(fields=problems)
    last = last or (today if first is None else min(today, first + dt.timedelta(days=default_days - 1)))
    first = first or last - dt.timedelta(days=default_days - 1)
    if first > last:
        raise ValidationFailed(fields={"from": "must not be after the end of the range"})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed(fields={"from": f"a report covers at most {MAX_DAYS:,} days"})
    return Range(first, last)


def choice(value: str | None, allowed: tuple[str, ...], name: str, default: str) -> str:
    if value in (None, ""):
        return default
    if value not in allowed:
        raise ValidationFailed(fields={name: f"must be one of {', '.join(allowed)}"})
    return str(value)


# the period of a UTC day (ledger_daily.day) in SQL; `period_of` is the same in Python
PERIOD_SQL = {"day": "day", "week": "date(day, 'weekday 0', '-6 days')", "month": "substr(day, 1, 7)"}


def period_of(day: str, period: str) -> str:
    """The period a UTC day (YYYY-MM-DD) falls in: the day, the Monday of its ISO week, or YYYY-MM."""
    if period == "month":
        return day[:7]
    if period == "week":
        d = dt.date.fromisoformat(day)
        return (d - dt.timedelta(days=d.weekday())).isoformat()
    return day


def periods(r: Range, period: str) -> list[str]:
    """Every period of the range in order, empty ones included (a chart needs its gaps)."""
    seen: dict[str, None] = {}
    for d in r.each_day():
        seen.setdefault(period_of(d.isoformat(), period))
    return list(seen)


@dataclass
class Sales:
    """A sales report: rows per (period, currency, group) and totals per currency."""

    range: Range
    period: str
    group: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    by_period: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (period, currency): figures
    more: bool = False  # rows were left out (`limit`)

    @property
    def currencies(self) -> list[str]:
        return sorted(self.totals)

    def columns(self) -> list[str]:
        keys = ["period", "currency"] + ([] if self.group == "currency" else [self.group])
        if self.group == "currency":
            return keys + ["orders", "units", "refunded_units", "gross", "refunds", "fees", "costs", "net_revenue",
                           "seller_net"]
        return keys + ["units", "refunded_units", "gross", "refunds", "fees", "seller_net", "net_sales"]

    def series(self, currency: str, figure: str) -> list[tuple[str, int]]:
        """(period, amount) of one figure in one currency, every period of the range."""
        return [(p, self.by_period.get((p, currency), {}).get(figure, 0)) for p in periods(self.range, self.period)]


def _finish(figures: dict[str, int]) -> dict[str, int]:
    figures["net_revenue"] = figures["fees"] - figures["costs"]
    figures["net_sales"] = figures["gross"] - figures["refunds"]
    return figures


def sales(db: sqlite_utils.Database, r: Range, period: str = "day", group: str = "currency", *,
          seller: str | None = None, sellers: Iterable[str] | None = None,
          categories: dict[str, str] | None = None, limit: int | None = None) -> Sales:
    """Sales and revenue over `r` by `period`, per currency and `group`. `seller` (or `sellers`)
    keeps one seller's (or several's) lines; `categories` maps product slugs to category slugs
    for lines sold before the category was recorded on them (the loaded catalogue's). `limit`
    keeps the first rows only (a page; `more` says whether there were others): the totals and
    the per-period series of the charts always cover the whole range.

    SQLite does the grouping (periods included) and the ordering, so Python handles the rows
    that are returned and no more."""
    period = choice(period, PERIODS, "period", "day")
    group = choice(group, GROUPS, "group", "currency")
    where, args = ["day BETWEEN ? AND ?"], [r.start.isoformat(), r.end.isoformat()]
    only = [seller] if seller is not None else (list(sellers) if sellers is not None else None)
    if only is not None:
        where.append(f"seller IN ({', '.join('?' * len(only))})" if only else "0")
        args += only
    condition = " AND ".join(where)
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    out = Sales(r, period, group)
    totals: dict[str, dict[str, int]] = {}
    for rec in db.execute(f"SELECT {PERIOD_SQL[period]} AS p, currency, {sums} FROM ledger_daily WHERE {condition}"
                          " GROUP BY p, currency", args):
        figures = dict(zip(FIGURES, (int(v or 0) for v in tuple(rec)[2:])))
        total = totals.setdefault(rec[1], dict.fromkeys(FIGURES, 0))
        for name, value in figures.items():
            total[name] += value
        out.by_period[(rec[0], rec[1])] = _finish(figures)
    out.totals = {c: _finish(t) for c, t in sorted(totals.items())}
    if group == "currency":
        out.rows = [{"period": p, "currency": c, **figures} for (p, c), figures in sorted(out.by_period.items())]
        if limit is not None:
            out.more, out.rows = len(out.rows) > limit, out.rows[:limit]
        return out
    if group == "category":  # few rows: products without a recorded category are folded into theirs
        cats = categories or {}
        folded: dict[tuple[str, str, str], dict[str, int]] = {}
        for rec in db.execute(f"SELECT {PERIOD_SQL[period]} AS p, currency, category, CASE WHEN category = ''"
                              f" THEN product ELSE '' END AS k, {sums} FROM ledger_daily WHERE {condition}"
                              f" AND product != '' GROUP BY p, currency, category, k", args):
            rec = tuple(rec)
            label = rec[2] or cats.get(rec[3], "") or UNCATEGORISED
            bucket = folded.setdefault((rec[0], rec[1], label), dict.fromkeys(FIGURES, 0))
            for name, value in zip(FIGURES, rec[4:]):
                bucket[name] += int(value or 0)
        rows = [{"period": p, "currency": c, "category": label, **_finish(f)}
                for (p, c, label), f in sorted(folded.items())]
        if limit is not None:
            out.more, rows = len(rows) > limit, rows[:limit]
        out.rows = rows
        return out
    # per seller or product: an order's Paystack charge belongs to no line (the currency report's)
    sql = (f"SELECT {PERIOD_SQL[period]} AS p, currency, {group}, {sums} FROM ledger_daily WHERE {condition}"
           f" AND {group} != '' GROUP BY p, currency, {group} ORDER BY p, currency, {group}")
    if limit is not None:
        sql += f" LIMIT {int(limit) + 1}"
    for rec in db.execute(sql, args):
        rec = tuple(rec)
        out.rows.append(_finish({"period": rec[0], "currency": rec[1], group: rec[2],
                                 **dict(zip(FIGURES, (int(v or 0) for v in rec[3:])))}))
    if limit is not None:
        out.more, out.rows = len(out.rows) > limit, out.rows[:limit]
    return out


def payouts(db: sqlite_utils.Database, r: Range, seller: str | None = None,
            sellers: Iterable[str] | None = None) -> dict[str, Any]:
    """Payouts created in `r` (newest first) and, per currency, what was sent, is on its way
    and came back."""
    where, args = ["substr(created_at, 1, 10) BETWEEN ? AND ?"], [r.start.isoformat(), r.end.isoformat()]
    only = [seller] if seller is not None else (list(sellers) if sellers is not None else None)
    if only is not None:
        where.append(f"seller_slug IN ({', '.join('?' * len(only))})" if only else "0")
        args += only
    rows = [dict(x) for x in db.execute(
        "SELECT id, reference, seller_slug, currency, amount, status, created_at, updated_at, last_error FROM payouts"
        f" WHERE {' AND '.join(where)} ORDER BY created_at DESC, id DESC", args)]
    totals: dict[str, dict[str, int]] = {}
    for p in rows:
        t = totals.setdefault(p["currency"], {"paid": 0, "in_flight": 0, "returned": 0, "count": 0})
        t["count"] += 1
        t[{"success": "paid", "queued": "in_flight", "pending": "in_flight"}.get(p["status"], "returned")] += p["amount"]
    return {"rows": rows, "totals": dict(sorted(totals.items()))}


def tie_out(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Each all-time report total beside the balance the ledger's entries give, per currency:
    the two must agree to the minor unit (a test proves it; the reports page shows it).

    - platform fees = −balance of `platform:fees`
    - Paystack costs = balance of `platform:paystack-costs`
    - seller earnings − paid out = what the ledger owes sellers (−Σ `seller:*` balances)
    - gross − refunds − Paystack costs − paid out = balance of `paystack:receivable`

    where "paid out" is the money that left in payouts (transfers that succeeded, less those
    reversed afterwards), read from the payout journals."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    sums = ", ".join(f"SUM({f})" for f in FIGURES)
    for rec in db.execute(f"SELECT currency, {sums} FROM ledger_daily GROUP BY currency"):
        for name, value in zip(FIGURES, tuple(rec)[1:]):
            totals[rec[0]][name] = int(value or 0)
    paid = {r[0]: -int(r[1]) for r in db.execute(
        "SELECT e.currency, SUM(e.amount) FROM ledger_journals j JOIN ledger_entries e ON e.journal_id = j.id"
        " WHERE j.kind IN ('payout_success', 'payout_return') AND e.account = ? GROUP BY e.currency", (RECEIVABLE,))}
    balances: dict[tuple[str, str], int] = {}
    for rec in db.execute("SELECT account, currency, SUM(amount) FROM ledger_entries WHERE account IN (?, ?, ?)"
                          " GROUP BY account, currency", (RECEIVABLE, FEES, COSTS)):
        balances[(rec[0], rec[1])] = int(rec[2])
    owed: dict[str, int] = {}
    for r in db.execute("SELECT currency, SUM(amount) FROM ledger_entries WHERE account >= 'seller:'"
                        " AND account < 'seller;' GROUP BY account, currency"):  # a range of the covering index
        owed[r[0]] = owed.get(r[0], 0) - int(r[1])
    out = []
    for currency in sorted(set(totals) | set(owed) | {c for _, c in balances} | set(paid)):
        t, out_paid = totals[currency], paid.get(currency, 0)
        checks = [
            ("Platform fees", t["fees"], -balances.get((FEES, currency), 0)),
            ("Paystack costs", t["costs"], balances.get((COSTS, currency), 0)),
            ("Seller earnings less payouts", t["seller_net"] - out_paid, owed.get(currency, 0)),
            ("Gross less refunds, costs and payouts", t["gross"] - t["refunds"] - t["costs"] - out_paid,
             balances.get((RECEIVABLE, currency), 0)),
        ]
        for name, report, ledger_value in checks:
            out.append({"currency": currency, "figure": name, "report": report, "ledger": ledger_value,
                        "ok": report == ledger_value})
    return out


# --- CSV --------------------------------------------------------------------------------------

def _cell(name: str, value: Any, currency: str | None) -> str:
    if name in MONEY and isinstance(value, int) and currency in CURRENCIES:
        return to_decimal(value, currency)  # decimal major units, the way spreadsheets read money
    return "" if value is None else str(value)


def csv_text(columns: list[str], rows: Iterable[dict[str, Any]], labels: dict[str, str] | None = None) -> str:
    """A CSV with a header of labels; money as decimal amounts in the row's currency; cells that
    a spreadsheet would run as a formula are quoted with a leading apostrophe."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    names = {**LABELS, **(labels or {})}
    writer.writerow([names.get(c, c) for c in columns])
    for row in rows:
        cells = [_cell(c, row.get(c), row.get("currency")) for c in columns]
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(c) else c
                         for c in cells])
    return buf.getvalue()


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def sales_csv(report: Sales) -> str:
    rows = [*report.rows, *({"period": "total", "currency": c, **t} for c, t in report.totals.items())]
    return csv_text(report.columns(), rows)


def payouts_csv(report: dict[str, Any]) -> str:
    return csv_text(["created_at", "reference", "seller_slug", "currency", "amount", "status", "updated_at"],
                    report["rows"], {"created_at": "Created", "reference": "Reference", "seller_slug": "Seller",
                                     "amount": "Amount", "status": "Status", "updated_at": "Updated"})
