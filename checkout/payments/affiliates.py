"""Affiliates (docs/promotions.md): a seller invites any account to earn a commission on sales
through its link, `?via=CODE`. The edge remembers the referral for `AFFILIATE_COOKIE_DAYS` in
a signed first-party cookie set when the Buy (or Add to cart) form posts with the code, and the
order placed with it books, per line of that seller (and of the products the invitation names),
the commission from the seller's share — never from the platform fee — to the affiliate's own
accounts, `affiliate:<id>:pending` then `:available`, released, refunded and reversed like a
seller's.

Commission rule: `commission = round half up (paid × bps / 10000)` of what the buyer paid for the
line, at most the seller's share of it. Nobody earns a commission on their own purchase.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from checkout.accounts import users
from checkout.core import audit
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.payments import ledger
from checkout.payments.discounts import parse_percent
from checkout.payments.pricing import percent_of
from digitaldock.money import Money

VIA = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
BUCKETS = ("pending", "available")


account = ledger.affiliate_account  # `affiliate:<id>:pending|available`


def normalize_via(text: Any) -> str | None:
    """The `via` code upper-cased, or None for anything that cannot be one (a referral is never
    worth refusing a purchase for: a bad one is simply not remembered)."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    return code if VIA.match(code) else None


def invite(edge: Edge, seller: str, email: str, percent: Any, products: Iterable[str] = (), code: str | None = None,
           actor_id: int | None = None) -> dict[str, Any]:
    """Make the account with `email` an affiliate of `seller` at `percent`; returns the affiliate."""
    catalogue = edge.catalog.current()
    if seller not in catalogue.sellers:
        raise ValidationFailed(fields={"seller": f"There is no seller “{seller[:60]}” in the catalogue."})
    bps = parse_percent(percent)
    user = users.get_by_email(edge, users.normalize_email(str(email or "")))
    if user is None:
        raise ValidationFailed(fields={"email": "There is no account with that email address; ask them to register."})
    slugs = sorted(set(products))
    for slug in slugs:
        listed = catalogue.products.get(slug)
        if listed is None or listed.seller != seller:
            raise ValidationFailed(fields={"product": f"{slug[:80]} is not a product of {seller}."})
    if code is None:
        base = re.sub(r"[^A-Z0-9]", "", str(user["display_name"]).upper())[:12] or "FRIEND"
        code = f"{base}-{seller.upper()[:12]}"
    via = normalize_via(code)
    if via is None:
        raise ValidationFailed(fields={"code": "Codes are 2 to 40 letters, digits, - or _."})
    with atomic(edge.db):
        if edge.db.execute("SELECT 1 FROM affiliates WHERE seller = ? AND user_id = ?", (seller, user["id"])).fetchone():
            raise Conflict(f"{user['email']} is already an affiliate of {seller}.", code="affiliate_exists")
        if edge.db.execute("SELECT 1 FROM affiliates WHERE code = ?", (via,)).fetchone():
            raise Conflict(f"The link code {via} is taken; choose another.", code="affiliate_code_taken",
                           fields={"code": "Already taken."})
        cur = edge.db.execute("INSERT INTO affiliates (seller, user_id, code, commission_bps, created_by, created_at)"
                              " VALUES (?,?,?,?,?,?)", (seller, user["id"], via, bps, actor_id, edge.clock.iso()))
        affiliate_id = int(cur.lastrowid)
        edge.db.conn.executemany("INSERT INTO affiliate_products (affiliate_id, product_slug) VALUES (?,?)",
                                 [(affiliate_id, s) for s in slugs])
        audit.record(edge, "payment.affiliate_invited", actor_id=actor_id, subject_id=user["id"], seller=seller,
                     code=via, bps=bps)
    return get(edge, affiliate_id)


def get(edge: Edge, affiliate_id: int) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM affiliates WHERE id = ?", (affiliate_id,)).fetchone()
    if row is None:
        raise NotFound("There is no such affiliate.")
    return dict(row)


def by_code(edge: Edge, via: str | None) -> dict[str, Any] | None:
    if not via:
        return None
    row = edge.db.execute("SELECT * FROM affiliates WHERE code = ? AND active = 1", (via,)).fetchone()
    return dict(row) if row else None


def record_click(edge: Edge, via: str | None) -> bool:
    """Count one Buy/Add-to-cart form sent with a known, active code; False when unknown."""
    found = by_code(edge, via)
    if found is None:
        return False
    with atomic(edge.db):
        edge.db.execute("INSERT INTO affiliate_clicks (affiliate_id, day, clicks) VALUES (?, ?, 1)"
                        " ON CONFLICT (affiliate_id, day) DO UPDATE SET clicks = clicks + 1",
                        (found["id"], edge.clock.iso()[:10]))
    return True


def commission_for(edge: Edge, via: str | None, buyer_id: int, seller: str, product_slug: str,
                   paid: int, share: int) -> tuple[int | None, int]:
    """(affiliate id, commission) for one line placed with the referral `via`; (None, 0) when
    the referral does not cover it (another seller, another product, the affiliate's own purchase)."""
    found = by_code(edge, via)
    if found is None or found["seller"] != seller or found["user_id"] == buyer_id:
        return None, 0
    chosen = {r[0] for r in edge.db.execute("SELECT product_slug FROM affiliate_products WHERE affiliate_id = ?",
                                            (found["id"],))}
    if chosen and product_slug not in chosen:
        return None, 0
    return found["id"], min(share, percent_of(paid, found["commission_bps"]))


def listing(edge: Edge, seller: str | None = None, user_id: int | None = None) -> list[dict[str, Any]]:
    """Affiliates with their figures: clicks, sales (lines sold, refunded ones excluded), earned
    (commission net of refunds) and what is pending and available, from the ledger."""
    where, args = [], []
    if seller is not None:
        where.append("a.seller = ?")
        args.append(seller)
    if user_id is not None:
        where.append("a.user_id = ?")
        args.append(user_id)
    rows = [dict(r) for r in edge.db.execute(
        "SELECT a.*, u.email, u.display_name FROM affiliates a JOIN users u ON u.id = a.user_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.seller, a.code", args)]
    for a in rows:
        a["clicks"] = edge.db.execute("SELECT COALESCE(SUM(clicks), 0) FROM affiliate_clicks WHERE affiliate_id = ?",
                                      (a["id"],)).fetchone()[0]
        a["sales"] = edge.db.execute(
            "SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.affiliate_id = ?"
            " AND o.status IN ('paid', 'partially_refunded', 'refunded') AND l.refunded_at IS NULL",
            (a["id"],)).fetchone()[0]
        a["products"] = [r[0] for r in edge.db.execute(
            "SELECT product_slug FROM affiliate_products WHERE affiliate_id = ? ORDER BY product_slug", (a["id"],))]
        figures: dict[str, dict[str, Money]] = {}
        for (acct, currency), total in ledger.balances(edge, f"affiliate:{a['id']}:").items():
            bucket = acct.rsplit(":", 1)[1]
            figures.setdefault(currency, {})[bucket] = Money(currency, -total)
        a["balances"] = [{"currency": c, "pending": f.get("pending", Money(c, 0)),
                          "available": f.get("available", Money(c, 0)),
                          "earned": f.get("pending", Money(c, 0)) + f.get("available", Money(c, 0))}
                         for c, f in sorted(figures.items())]
        a["percent"] = f"{a['commission_bps'] / 100:g}%"
    return rows


def set_active(edge: Edge, affiliate_id: int, active: bool, seller: str | None = None,
               actor_id: int | None = None) -> None:
    with atomic(edge.db):
        cur = edge.db.execute("UPDATE affiliates SET active = ? WHERE id = ?" + (" AND seller = ?" if seller else ""),
                              (int(active), affiliate_id, *((seller,) if seller else ())))
        if not cur.rowcount:
            raise NotFound("There is no such affiliate.")
        audit.record(edge, "payment.affiliate_changed", actor_id=actor_id, affiliate_id=affiliate_id, active=active)


def stop_closed_accounts(edge: Edge, now: float) -> dict[str, int]:
    """Retention step: an affiliate whose account is disabled, being deleted or anonymised earns
    nothing more (its link is stopped; what it earned stays in the ledger)."""
    with atomic(edge.db):
        cur = edge.db.execute("UPDATE affiliates SET active = 0 WHERE active = 1 AND user_id IN (SELECT id FROM users"
                              " WHERE disabled_at IS NOT NULL OR anonymised_at IS NOT NULL OR banned_at IS NOT NULL)")
    return {"affiliate_links_stopped": cur.rowcount}
