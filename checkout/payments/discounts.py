"""Discount codes: created by a seller for their products or by an admin platform-wide, checked
when a buyer applies one, priced by the discount step of `checkout.payments.pricing`, and counted
in the transaction that fulfils the order.

Who bears a discount (docs/promotions.md): the platform fee is always the configured share of
what the buyer paid. A seller's code costs the seller: the line is simply sold for less. A
platform code costs the platform, never the seller: the seller's share is what an undiscounted
sale would have given, and the difference (`subsidy`) is paid from `platform:discounts`.

Uses: a pending order priced with a code holds one use for `DISCOUNT_HOLD_MINUTES`, so buyers
racing for the last use are told before they pay; the fulfilling transaction counts the paid
uses again and flags (does not fulfil) an order whose code was used up meanwhile.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from checkout.core import audit
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.payments.pricing import Line, apply_discount
from digitaldock.money import CURRENCIES, Money, format_money

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")
PAID_STATES = ("paid", "refunded", "partially_refunded")


def normalize_code(text: Any, field: str = "code") -> str:
    """The code as matched: trimmed and upper-cased; 2–40 letters, digits, `-` or `_`."""
    if not isinstance(text, str):
        raise ValidationFailed(fields={field: "Enter a discount code."}, code="bad_discount_code")
    code = text.strip().upper()
    if not CODE.match(code):
        raise ValidationFailed(f"“{text.strip()[:40]}” is not a discount code: codes are 2 to 40 letters, "
                               "digits, - or _.", fields={field: "Codes are 2 to 40 letters, digits, - or _."},
                               code="bad_discount_code")
    return code


def parse_percent(text: Any) -> int:
    """"12.5" → 1250 basis points; 0.01 to 100."""
    m = PERCENT.match(str(text).strip())
    bps = int(m.group(1)) * 100 + int((m.group(2) or "0").ljust(2, "0")) if m else 0
    if not 1 <= bps <= 10_000:
        raise ValidationFailed(fields={"percent": "A percentage from 0.01 to 100, at most two decimals."})
    return bps


def parse_time(text: Any, field: str) -> str | None:
    """An ISO date or date-time (UTC when it names no offset) as the edge stores times."""
    if text in (None, ""):
        return None
    try:
        when = dt.datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationFailed(fields={field: "An ISO date or time, e.g. 2026-12-24 or 2026-12-24T18:00."}) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return iso(when.timestamp())


def _positive(value: Any, field: str, upper: int = 10**12) -> int | None:
    if value is None or value == "":
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= upper:
        raise ValidationFailed(fields={field: f"A whole number from 1 to {upper}."})
    return value


def create(edge: Edge, code: str, *, percent: Any = None, amount: int | None = None, currency: str | None = None,
           products: Iterable[str] = (), seller: str = "", max_uses: int | None = None, per_buyer: int | None = None,
           min_order: int | None = None, starts: Any = None, ends: Any = None, first_purchase_only: bool = False,
           actor_id: int | None = None) -> int:
    """A new code; `seller` '' makes a platform code. Every field is checked, each error names it."""
    key = normalize_code(code)
    if (percent in (None, "")) == (amount is None):
        raise ValidationFailed("A code takes off a percentage or a fixed amount (with its currency), not both.",
                               fields={"percent": "Give a percentage or an amount."})
    bps = parse_percent(percent) if percent not in (None, "") else None
    if currency is not None and currency not in CURRENCIES:
        raise ValidationFailed(fields={"currency": f"One of {', '.join(CURRENCIES)}."})
    if (amount is not None or min_order is not None) and currency is None:
        raise ValidationFailed(fields={"currency": "An amount needs its currency."})
    upper = CURRENCIES[currency].maximum if currency else 10**12
    amount, min_order = _positive(amount, "amount", upper), _positive(min_order, "min_order", upper)
    max_uses, per_buyer = _positive(max_uses, "max_uses"), _positive(per_buyer, "per_buyer")
    starts_at, ends_at = parse_time(starts, "starts"), parse_time(ends, "ends")
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationFailed(fields={"ends": "The end must come after the start."})
    catalogue = edge.catalog.current()
    if seller and seller not in catalogue.sellers:
        raise ValidationFailed(fields={"seller": f"There is no seller “{seller[:60]}” in the catalogue."})
    slugs = sorted(set(products))
    for slug in slugs:
        listed = catalogue.products.get(slug)
        if listed is None:
            raise ValidationFailed(fields={"product": f"There is no product “{slug[:80]}” in the catalogue."})
        if seller and listed.seller != seller:
            raise ValidationFailed(fields={"product": f"{listed.title} is not {seller}'s product."})
    with atomic(edge.db):
        if edge.db.execute("SELECT 1 FROM discount_codes WHERE seller = ? AND code_key = ?", (seller, key)).fetchone():
            raise Conflict(f"There is already a code {key} {'of ' + seller if seller else 'of the platform'}.",
                           code="discount_code_exists", fields={"code": "Already taken."})
        cur = edge.db.execute(
            "INSERT INTO discount_codes (code, code_key, seller, percent_bps, amount, currency, starts_at, ends_at,"
            " max_uses, per_buyer, min_order, first_purchase_only, created_by, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (code.strip(), key, seller, bps, amount, currency, starts_at, ends_at, max_uses, per_buyer, min_order,
             int(bool(first_purchase_only)), actor_id, edge.clock.iso()))
        code_id = int(cur.lastrowid)
        edge.db.conn.executemany("INSERT INTO discount_code_products (code_id, product_slug) VALUES (?,?)",
                                 [(code_id, s) for s in slugs])
        audit.record(edge, "payment.discount_created", actor_id=actor_id, code=key, seller=seller or None)
    return code_id


def set_paused(edge: Edge, code: str, paused: bool = True, seller: str = "", actor_id: int | None = None) -> None:
    key = normalize_code(code)
    with atomic(edge.db):
        cur = edge.db.execute("UPDATE discount_codes SET paused = ? WHERE seller = ? AND code_key = ?",
                              (int(paused), seller, key))
        if not cur.rowcount:
            raise NotFound(f"There is no code {key} {'of ' + seller if seller else 'of the platform'}.",
                           code="unknown_discount_code")
        audit.record(edge, "payment.discount_paused" if paused else "payment.discount_resumed", actor_id=actor_id,
                     code=key, seller=seller or None)


def listing(edge: Edge, seller: str | None = None) -> list[dict[str, Any]]:
    """Codes (a seller's, or all when `seller` is None) with their report: paid uses, discount
    given and revenue with the code (per the code's orders' currency), from `discount_uses`."""
    sql = "SELECT * FROM discount_codes" + (" WHERE seller = ?" if seller is not None else "") + " ORDER BY seller, code_key"
    codes = [dict(r) for r in edge.db.execute(sql, (seller,) if seller is not None else ())]
    if not codes:
        return codes
    marks = ",".join("?" * len(codes))
    ids = [c["id"] for c in codes]
    stats: dict[int, list[dict[str, Any]]] = {}
    for r in edge.db.execute(f"SELECT code_id, currency, COUNT(*) AS uses, SUM(discount) AS discount,"
                             f" SUM(revenue) AS revenue FROM discount_uses WHERE code_id IN ({marks})"
                             " GROUP BY code_id, currency ORDER BY currency", ids):
        stats.setdefault(r["code_id"], []).append({"currency": r["currency"], "uses": r["uses"],
                                                   "discount": Money(r["currency"], r["discount"]),
                                                   "revenue": Money(r["currency"], r["revenue"])})
    products: dict[int, list[str]] = {}
    for r in edge.db.execute(f"SELECT code_id, product_slug FROM discount_code_products WHERE code_id IN ({marks})"
                             " ORDER BY product_slug", ids):
        products.setdefault(r["code_id"], []).append(r["product_slug"])
    for c in codes:
        c["report"] = stats.get(c["id"], [])
        c["uses"] = sum(s["uses"] for s in c["report"])
        c["products"] = products.get(c["id"], [])
        c["describe"] = describe(c)
    return codes


def describe(code: dict[str, Any]) -> str:
    """"10% off" / "₦500.00 off", as shown to buyers and in the consoles."""
    if code["percent_bps"] is not None:
        whole, part = divmod(int(code["percent_bps"]), 100)
        return f"{whole}{'.' + str(part).rjust(2, '0').rstrip('0') if part else ''}% off"
    return f"{format_money(code['amount'], code['currency'])} off"


def _uses(edge: Edge, code_id: int, user_id: int | None = None, exclude_order: int | None = None) -> int:
    """Paid uses plus the holds of pending orders younger than DISCOUNT_HOLD_MINUTES."""
    since = edge.clock.iso(-60 * edge.settings.DISCOUNT_HOLD_MINUTES)
    by_user = " AND user_id = ?" if user_id is not None else ""
    args: tuple = (code_id,) + ((user_id,) if user_id is not None else ())
    paid = edge.db.execute(f"SELECT COUNT(*) FROM discount_uses WHERE code_id = ?{by_user}", args).fetchone()[0]
    held = edge.db.execute(f"SELECT COUNT(*) FROM orders WHERE discount_code_id = ?{by_user} AND status = 'pending'"
                           " AND created_at >= ? AND id IS NOT ?", (*args, since, exclude_order)).fetchone()[0]
    return int(paid) + int(held)


def _refusal(edge: Edge, code: dict[str, Any], lines: list[Line], user: Any) -> str | None:
    """Why this code cannot price these lines for this buyer, or None."""
    now = edge.clock.iso()
    currency = lines[0].currency
    if code["paused"]:
        return f"The code {code['code_key']} is paused: it cannot be used right now."
    if code["starts_at"] and now < code["starts_at"]:
        return f"The code {code['code_key']} is not valid yet: it starts on {code['starts_at'][:16].replace('T', ' ')} UTC."
    if code["ends_at"] and now >= code["ends_at"]:
        return f"The code {code['code_key']} has expired: it ended on {code['ends_at'][:16].replace('T', ' ')} UTC."
    if code["currency"] and code["currency"] != currency:
        return f"The code {code['code_key']} is for orders in {code['currency']}; this order is in {currency}."
    if not any(_eligible(edge, code, lines)):
        return f"The code {code['code_key']} does not apply to anything in this order."
    total = sum(line.amount for line in lines)
    if code["min_order"] and total < code["min_order"]:
        return (f"The code {code['code_key']} needs an order of at least "
                f"{format_money(code['min_order'], code['currency'])}.")
    if code["max_uses"] and _uses(edge, code["id"]) >= code["max_uses"]:
        return f"The code {code['code_key']} has been used up."
    if user is not None:
        if code["per_buyer"] and _uses(edge, code["id"], user["id"]) >= code["per_buyer"]:
            return f"You have already used the code {code['code_key']} as many times as it allows."
        if code["first_purchase_only"] and _has_bought(edge, user["id"]):
            return f"The code {code['code_key']} is for a first purchase only."
    return None


def _has_bought(edge: Edge, user_id: int, exclude_order: int | None = None) -> bool:
    return edge.db.execute(f"SELECT 1 FROM orders WHERE user_id = ? AND status IN {PAID_STATES} AND id IS NOT ?",
                           (user_id, exclude_order)).fetchone() is not None


def _eligible(edge: Edge, code: dict[str, Any], lines: list[Line]) -> list[bool]:
    chosen = {r[0] for r in edge.db.execute("SELECT product_slug FROM discount_code_products WHERE code_id = ?",
                                            (code["id"],))}
    # a line already priced by an offer of its seller (an upsell) takes no code on top
    return [(not code["seller"] or line.seller == code["seller"]) and (not chosen or line.product_slug in chosen)
            and not line.discount_bearer for line in lines]


def _priced(edge: Edge, code: dict[str, Any], lines: list[Line]) -> list[Line]:
    amount = Money(code["currency"], code["amount"]) if code["amount"] is not None else None
    return apply_discount(lines, _eligible(edge, code, lines), percent_bps=code["percent_bps"], amount=amount,
                          code_id=code["id"], bearer="seller" if code["seller"] else "platform")


def quote(edge: Edge, lines: list[Line], text: Any, user: Any = None) -> list[Line]:
    """The lines priced with the code the buyer typed, or a ValidationFailed naming `code` that
    says why not (unknown, paused, not yet valid, expired, used up, not applicable, ...).

    Which code: a code word may be a platform code and the code of several sellers at once.
    Those of the sellers in the order, and the platform's, are candidates; the one that takes
    the most off the order wins (ties: a seller's code, then the oldest)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return lines
    key = normalize_code(text)
    if not lines:
        return lines
    sellers = {line.seller for line in lines}
    found = [dict(r) for r in edge.db.execute("SELECT * FROM discount_codes WHERE code_key = ? ORDER BY seller = '', id",
                                              (key,))]
    if not found:
        raise ValidationFailed(f"There is no discount code {key}. Check the spelling.",
                               fields={"code": "Unknown code."}, code="unknown_discount_code")
    candidates = [c for c in found if not c["seller"] or c["seller"] in sellers]
    best, best_off, reasons = None, -1, []
    for c in candidates:
        reason = _refusal(edge, c, lines, user)
        if reason:
            reasons.append(reason)
            continue
        priced = _priced(edge, c, lines)
        off = sum(line.discount.minor for line in priced)
        if off > best_off:
            best, best_off = priced, off
    if best is not None:
        return best
    reason = reasons[0] if reasons else f"The code {key} does not apply to anything in this order."
    raise ValidationFailed(reason, fields={"code": reason}, code="discount_not_applicable")


def code_of(edge: Edge, code_id: int | None) -> dict[str, Any] | None:
    if code_id is None:
        return None
    row = edge.db.execute("SELECT * FROM discount_codes WHERE id = ?", (code_id,)).fetchone()
    return dict(row) if row else None


def claim_use(edge: Edge, order: dict[str, Any], lines: list[dict[str, Any]]) -> str | None:
    """In the transaction that fulfils `order`: count its code's use, or say why it may not be
    used any more (used up, or this buyer's uses spent, while the order waited): the order is
    then flagged, not fulfilled. Nothing for an order without a code."""
    code = code_of(edge, order.get("discount_code_id"))
    if code is None:
        return None
    paid = edge.db.execute("SELECT COUNT(*) FROM discount_uses WHERE code_id = ?", (code["id"],)).fetchone()[0]
    mine = edge.db.execute("SELECT COUNT(*) FROM discount_uses WHERE code_id = ? AND user_id = ?",
                           (code["id"], order["user_id"])).fetchone()[0]
    if code["max_uses"] and paid >= code["max_uses"]:
        return f"The discount code {code['code_key']} was used up before this payment arrived"
    if code["per_buyer"] and mine >= code["per_buyer"]:
        return f"The buyer had already used the discount code {code['code_key']} as often as it allows"
    if code["first_purchase_only"] and _has_bought(edge, order["user_id"], order["id"]):
        return f"The discount code {code['code_key']} is for a first purchase, and the buyer bought before this payment"
    edge.db.execute("INSERT INTO discount_uses (code_id, order_id, user_id, currency, discount, revenue, created_at)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (code["id"], order["id"], order["user_id"], order["currency"],
                     # revenue is what the lines sold for, without the tax owed to the buyer's country
                     sum(line["discount"] for line in lines), sum(line["amount"] for line in lines), edge.clock.iso()))
    return None
