"""Pages of money records for the public API (issue #21): a buyer's orders, a seller's sales,
refunds and payouts, and balances. Each takes the owner (a user id, or the catalogue sellers an
account manages) so nobody pages through another's records; filters are by time and state.

Amounts are `{"amount": minor units, "currency", "formatted"}` (`money_json`): integers, never
floats, and the same display as every page (`format_money`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from checkout.core.context import Edge
from checkout.core.errors import NotFound, ValidationFailed
from checkout.core.paging import Page, keyset
from checkout.payments import ledger
from checkout.payments.orders import order_lines
from digitaldock.money import format_money

ORDER_STATES = ("pending", "paid", "failed", "abandoned", "flagged", "refunded", "partially_refunded")
SALE_STATES = ("paid", "refunded")
REFUND_STATES = ("requested", "approved", "processing", "processed", "rejected", "failed")
PAYOUT_STATES = ("queued", "pending", "success", "failed", "reversed")


def money_json(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": int(minor), "currency": currency, "formatted": format_money(int(minor), currency)}


def parse_when(value: str | None, field: str, end: bool = False) -> str | None:
    """An ISO date or UTC date-time from a query parameter, as the stored ISO text to compare
    with; a date means its start (or, for an upper bound, its end). 422 naming the field."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            moment = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time(), dt.UTC)
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(fields={field: "must be a date (2026-11-30) or a date-time with its zone"}) from None
    return moment.isoformat(timespec="seconds")


def _state(value: str | None, field: str, states: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in states:
        raise ValidationFailed(fields={field: f"must be one of {', '.join(states)}"})
    return value


def _window(where: list[str], args: list[Any], column: str, since: str | None, until: str | None) -> None:
    after, before = parse_when(since, "created_after"), parse_when(until, "created_before", end=True)
    if after:
        where.append(f"{column} >= ?")
        args.append(after)
    if before:
        where.append(f"{column} < ?")
        args.append(before)


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join('?' * len(values))})" if values else "0"


# --- buyers ---------------------------------------------------------------------------------------

def _order_json(edge: Edge, row: dict[str, Any]) -> dict[str, Any]:
    lines = []
    for line in order_lines(edge, row["id"]):
        refund = edge.db.execute("SELECT status FROM refunds WHERE order_line_id = ? ORDER BY id DESC LIMIT 1",
                                 (line["id"],)).fetchone()
        lines.append({"id": line["id"], "product_slug": line["product_slug"], "title": line["title"],
                      "seller": line["seller"], "price": money_json(line["amount"], line["currency"]),
                      "refunded": line["refunded_at"] is not None, "refund_status": refund["status"] if refund else None})
    return {"id": row["id"], "reference": row["reference"], "status": row["status"],
            "total": money_json(row["amount"], row["currency"]), "created_at": row["created_at"],
            "paid_at": row["paid_at"], "lines": lines}


def orders_page(edge: Edge, user_id: int, cursor: str | None, limit: int, status: str | None = None,
                since: str | None = None, until: str | None = None) -> Page:
    where, args = ["user_id = ?"], [user_id]
    state = _state(status, "status", ORDER_STATES)
    if state:
        where.append("status = ?")
        args.append(state)
    _window(where, args, "created_at", since, until)
    page = keyset(edge.db, "SELECT * FROM orders", where, args, "id", cursor, limit)
    return Page([_order_json(edge, r) for r in page.items], page.next_cursor)


def order_of(edge: Edge, user_id: int, order_id: int) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM orders WHERE id = ? AND user_id = ?", (order_id, user_id)).fetchone()
    if row is None:
        raise NotFound("There is no order with that id.")
    return _order_json(edge, dict(row))


# --- sellers ----------------------------------------------------------------------------------------

SALES_SELECT = ("SELECT l.id, l.product_slug, l.title, l.seller, l.amount, l.currency, l.fee, l.net, l.refunded_at,"
                " l.released_at, o.reference, o.paid_at FROM order_lines l JOIN orders o ON o.id = l.order_id")


def _sale_json(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": r["id"], "order_reference": r["reference"], "product_slug": r["product_slug"], "title": r["title"],
            "seller": r["seller"], "price": money_json(r["amount"], r["currency"]),
            "fee": money_json(r["fee"], r["currency"]), "net": money_json(r["net"], r["currency"]),
            "status": "refunded" if r["refunded_at"] else "paid", "sold_at": r["paid_at"],
            "refunded_at": r["refunded_at"], "released_at": r["released_at"]}


def sales_page(edge: Edge, sellers: list[str], cursor: str | None, limit: int, status: str | None = None,
               since: str | None = None, until: str | None = None, product: str | None = None) -> Page:
    """Sale lines of `sellers` (paid orders, refunded ones included), newest first."""
    where, args = [_in("l.seller", sellers), "o.status IN ('paid', 'refunded', 'partially_refunded')"], [*sellers]
    state = _state(status, "status", SALE_STATES)
    if state == "paid":
        where.append("l.refunded_at IS NULL")
    elif state == "refunded":
        where.append("l.refunded_at IS NOT NULL")
    if product:
        where.append("l.product_slug = ?")
        args.append(product[:200])
    _window(where, args, "o.paid_at", since, until)
    page = keyset(edge.db, SALES_SELECT, where, args, "l.id", cursor, limit)
    return Page([_sale_json(r) for r in page.items], page.next_cursor)


def sale_of(edge: Edge, sellers: list[str], line_id: int) -> dict[str, Any]:
    row = edge.db.execute(f"{SALES_SELECT} WHERE l.id = ? AND {_in('l.seller', sellers)}"
                          " AND o.status IN ('paid', 'refunded', 'partially_refunded')", (line_id, *sellers)).fetchone()
    if row is None:
        raise NotFound("There is no sale with that id.")
    return _sale_json(dict(row))


REFUNDS_SELECT = ("SELECT r.id, r.status, r.amount, r.currency, r.reason, r.requested_at, r.decided_at,"
                  " r.processed_at, l.id AS sale_id, l.product_slug, l.seller, o.reference FROM refunds r"
                  " JOIN order_lines l ON l.id = r.order_line_id JOIN orders o ON o.id = r.order_id")


def refunds_page(edge: Edge, sellers: list[str], cursor: str | None, limit: int, status: str | None = None,
                 since: str | None = None, until: str | None = None) -> Page:
    where, args = [_in("l.seller", sellers)], [*sellers]
    state = _state(status, "status", REFUND_STATES)
    if state:
        where.append("r.status = ?")
        args.append(state)
    _window(where, args, "r.requested_at", since, until)
    page = keyset(edge.db, REFUNDS_SELECT, where, args, "r.id", cursor, limit)
    return Page([{"id": r["id"], "sale_id": r["sale_id"], "order_reference": r["reference"],
                  "product_slug": r["product_slug"], "seller": r["seller"], "status": r["status"],
                  "amount": money_json(r["amount"], r["currency"]), "reason": r["reason"],
                  "requested_at": r["requested_at"], "decided_at": r["decided_at"],
                  "processed_at": r["processed_at"]} for r in page.items], page.next_cursor)


def payouts_page(edge: Edge, sellers: list[str], cursor: str | None, limit: int, status: str | None = None,
                 since: str | None = None, until: str | None = None) -> Page:
    where, args = [_in("seller_slug", sellers)], [*sellers]
    state = _state(status, "status", PAYOUT_STATES)
    if state:
        where.append("status = ?")
        args.append(state)
    _window(where, args, "created_at", since, until)
    page = keyset(edge.db, "SELECT * FROM payouts", where, args, "id", cursor, limit)
    return Page([{"id": r["id"], "reference": r["reference"], "seller": r["seller_slug"], "status": r["status"],
                  "amount": money_json(r["amount"], r["currency"]), "created_at": r["created_at"],
                  "updated_at": r["updated_at"]} for r in page.items], page.next_cursor)


def balances_of(edge: Edge, sellers: list[str]) -> list[dict[str, Any]]:
    """Per seller and currency: pending (inside the refund window), available, in flight — from the ledger."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for slug in sellers:
        for (account, currency), total in ledger.balances(edge, f"seller:{slug}:").items():
            bucket = account.rsplit(":", 1)[-1].replace("-", "_")
            if account != f"seller:{slug}:{account.rsplit(':', 1)[-1]}":
                continue  # a longer slug that shares this prefix
            entry = out.setdefault((slug, currency), {"seller": slug, "currency": currency})
            entry[bucket] = money_json(-total, currency)
    for entry in out.values():
        for bucket in ("pending", "available", "payout_in_flight"):
            entry.setdefault(bucket, money_json(0, entry["currency"]))
    return [out[k] for k in sorted(out)]
