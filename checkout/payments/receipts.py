"""Receipts and the order link: what a buyer is shown and emailed about a paid order.

A receipt names the seller of each line, the date, the order number, the payment method as
Paystack reported it (card brand and last four, bank, mobile money), each line's price and the
total. The payment method is read once from the transaction Paystack confirmed
(`payment_method`) and kept on the order (`orders.payment_method`).

The order link (`order_link`) is the receipt email's way into the order's files without a
password: a signed token naming the order and the address it was placed with, valid
ORDER_LINK_DAYS. It carries its own issue time instead of relying on the signature's age, so an
expired link is still recognised as genuine (`read_order_link`) and can ask for a fresh one to
be emailed to the same address; nothing else about the order is revealed to whoever holds it.
"""

from __future__ import annotations

from typing import Any

from checkout.core import outbox
from checkout.core.clock import iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import InvalidToken, NotFound
from checkout.payments.orders import get_order, order_lines
from digitaldock.money import Money, format_money

ORDER_LINK = "order-files"
_FOREVER = 10 * 365 * 86400  # the link's own `t` decides its age; the signature only proves it is ours

CHANNELS = {"bank": "Bank account", "bank_transfer": "Bank transfer", "ussd": "USSD", "qr": "QR code",
            "mobile_money": "Mobile money", "eft": "EFT", "apple_pay": "Apple Pay", "card": "Card"}


def payment_method(data: dict[str, Any]) -> str | None:
    """The payment method of a Paystack transaction in words: "Visa ending 4081", "Mobile money
    (MTN 0551234987)", "Bank transfer (Access Bank)"; None when Paystack said nothing usable."""
    auth = data.get("authorization") if isinstance(data.get("authorization"), dict) else {}
    channel = str(data.get("channel") or auth.get("channel") or "").strip().lower()
    text = {k: str(auth.get(k) or "").strip() for k in ("brand", "card_type", "last4", "bank",
                                                        "mobile_money_number", "account_name")}
    if channel == "card" or (not channel and text["last4"]):
        brand = (text["brand"] or text["card_type"] or "card").split()[0]
        brand = brand.upper() if brand.lower() in ("amex", "jcb") else brand.title()
        return f"{brand} ending {text['last4']}" if text["last4"].isdigit() else brand
    if not channel:
        return None
    name = CHANNELS.get(channel, channel.replace("_", " ").capitalize())[:40]
    detail = " ".join(x for x in (text["bank"], text["mobile_money_number"]) if x)[:60]
    return f"{name} ({detail})" if detail else name


def order_token(edge: Edge, order: dict[str, Any]) -> str:
    """The signed token of the receipt email's order links (see the module docstring)."""
    return edge.tokens.dumps(ORDER_LINK, {"o": order["reference"], "e": order["email"], "t": int(edge.clock())})


def order_link(edge: Edge, order: dict[str, Any], page: str = "files", token: str | None = None) -> str:
    """The receipt email's link to the order's files (`page="files"`) or its printable receipt."""
    url = f"{edge.settings.CHECKOUT_URL}/orders/{order['reference']}/{page}"
    if token == "":  # an account's order: its owner signs in
        return url
    return f"{url}?token={token or order_token(edge, order)}"


def read_order_link(edge: Edge, token: str) -> tuple[dict[str, Any], bool]:
    """(the order, whether the link expired) for a genuine link; InvalidToken otherwise, also when
    the order's address changed since (the account was anonymised)."""
    data = edge.tokens.loads(ORDER_LINK, token, _FOREVER)
    ref, email, issued = data.get("o"), data.get("e"), data.get("t")
    if not isinstance(ref, str) or not isinstance(email, str) or not isinstance(issued, int):
        raise InvalidToken()
    try:
        order = get_order(edge, ref)
    except NotFound:  # a genuine token for an order that is gone: as invalid as a forged one
        raise InvalidToken() from None
    if order["email"] != email:
        raise InvalidToken()
    return order, edge.clock() - issued > edge.settings.ORDER_LINK_DAYS * 86400


def sellers_of(edge: Edge, slugs: set[str]) -> dict[str, str]:
    """Catalogue seller slug -> the name shown on a receipt."""
    known = edge.catalog.current().sellers
    return {s: str((known.get(s) or {}).get("name") or s) for s in slugs}


def receipt(edge: Edge, reference: str) -> dict[str, Any]:
    """Everything a receipt shows, from the order's own records."""
    order = get_order(edge, reference)
    lines = order_lines(edge, order["id"])
    names = sellers_of(edge, {x["seller"] for x in lines})
    return {
        "reference": order["reference"], "email": order["email"], "status": order["status"],
        "date": (order["paid_at"] or order["created_at"])[:10],
        "method": order.get("payment_method") or "",
        "sellers": sorted(set(names.values())),
        # what the buyer paid for each line: its (discounted) taxable amount plus its tax (issue #18)
        "lines": [{"title": x["title"], "seller": names[x["seller"]],
                   "amount": format_money(x["amount"] + (x.get("tax") or 0), x["currency"]),
                   "refunded": bool(x.get("refunded_at"))} for x in lines],
        "tax": (format_money(sum(x.get("tax") or 0 for x in lines), order["currency"])
                if any(x.get("tax") for x in lines) else ""),
        "total": format_money(order["amount"], order["currency"]),
        "total_money": Money(order["currency"], order["amount"]),
        "issued": iso(edge.clock()),
    }


def resend_order_link(edge: Edge, order: dict[str, Any], ip: str) -> None:
    """Email a fresh order link to the address the order was placed with (an expired link's
    button). Rate limited per order and per IP; the asker learns nothing they did not know."""
    edge.hit("ORDER_LINK_RESEND_LIMIT", "ip", ip)
    edge.hit("ORDER_LINK_RESEND_LIMIT", "order", order["reference"])
    token = order_token(edge, order)
    with atomic(edge.db):
        outbox.enqueue(edge, "order_link", order["email"], order["user_id"], reference=order["reference"],
                       files=order_link(edge, order, "files", token), receipt=order_link(edge, order, "receipt", token),
                       link_days=edge.settings.ORDER_LINK_DAYS)
