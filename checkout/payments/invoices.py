"""Invoices and credit notes (issue #18).

Every paid order gets an invoice, every processed refund a credit note, each issued inside the
transaction that pays (or refunds) the order. Numbers are consecutive per series (`INV-2026`,
`CN-2026`: one series per kind and calendar year) without gaps: the next number is MAX + 1 of
its series read inside that same write transaction (`BEGIN IMMEDIATE`, so two payments never
read the same MAX), and a payment that rolls back takes its number back with it. An issued
document never changes (a trigger refuses updates); what it says is kept as issued (`data`).

The marketplace is the seller of record for tax (it collects and remits the tax), so the
invoice names the platform as supplier and the catalogue seller of each line beside it.
Shown as an HTML page and a PDF made with fpdf2 (`pdf`).
"""

from __future__ import annotations

import json
from typing import Any

from fpdf import FPDF

from checkout.core.context import Edge
from checkout.core.errors import NotFound
from checkout.payments import taxes
from digitaldock.money import to_decimal

PREFIX = {"invoice": "INV", "credit_note": "CN"}


def display_number(series: str, number: int) -> str:
    return f"{series}-{number:06d}"


def _next_number(edge: Edge, series: str) -> int:
    row = edge.db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM invoices WHERE series = ?", (series,)).fetchone()
    return int(row[0])


def _parties(edge: Edge, order: dict[str, Any]) -> dict[str, Any]:
    user = edge.db.execute("SELECT display_name, email FROM users WHERE id = ?", (order["user_id"],)).fetchone()
    country = order.get("tax_country")
    s = edge.settings
    return {"supplier": {"name": s.INVOICE_SELLER_OF_RECORD, "address": s.INVOICE_ADDRESS, "vat_id": s.INVOICE_VAT_ID},
            "buyer": {"name": user["display_name"] if user else "", "email": order["email"], "country": country or "",
                      "country_name": taxes.rates(edge).rate_for(country).name if country else "",
                      "vat_id": order.get("vat_id") or ""}}


def _line(edge: Edge, line: dict[str, Any], sign: int = 1) -> dict[str, Any]:
    seller = edge.catalog.current().sellers.get(line["seller"]) or {}
    name = seller.get("name") if isinstance(seller, dict) else None
    return {"title": line["title"], "seller": name or line["seller"], "net": sign * line["amount"],
            "tax": sign * line["tax"], "tax_bps": line["tax_bps"], "total": sign * (line["amount"] + line["tax"])}


def _issue(edge: Edge, kind: str, order: dict[str, Any], lines: list[dict[str, Any]], refund_id: int | None,
           extra: dict[str, Any]) -> dict[str, Any]:
    now = edge.clock.iso()
    series = f"{PREFIX[kind]}-{now[:4]}"
    number = _next_number(edge, series)
    data = {"kind": kind, "number": display_number(series, number), "issued_at": now, "order": order["reference"],
            "currency": order["currency"], "prices_include_tax": bool(order.get("prices_include_tax")),
            **_parties(edge, order), "lines": lines,
            "totals": {k: sum(x[k] for x in lines) for k in ("net", "tax", "total")}, **extra}
    edge.db.execute("INSERT INTO invoices (kind, series, number, order_id, refund_id, issued_at, data)"
                    " VALUES (?,?,?,?,?,?,?)", (kind, series, number, order["id"], refund_id, now,
                                                json.dumps(data, sort_keys=True)))
    return data


def issue_invoice(edge: Edge, order: dict[str, Any], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The invoice of a paid order (inside the payment's transaction)."""
    return _issue(edge, "invoice", order, [_line(edge, x) for x in lines], None, {"paid_at": edge.clock.iso()})


def issue_credit_note(edge: Edge, order: dict[str, Any], line: dict[str, Any], refund_id: int) -> dict[str, Any]:
    """The credit note of a processed refund of one line (inside the refund's transaction)."""
    invoice = edge.db.execute("SELECT series, number FROM invoices WHERE order_id = ? AND kind = 'invoice'",
                              (order["id"],)).fetchone()
    corrects = display_number(invoice["series"], invoice["number"]) if invoice else ""
    return _issue(edge, "credit_note", order, [_line(edge, line, -1)], refund_id, {"corrects": corrects})


def of_order(edge: Edge, order_id: int) -> list[dict[str, Any]]:
    """The order's invoice and credit notes, in the order they were issued."""
    return [{"number": display_number(r["series"], r["number"]), "kind": r["kind"]}
            for r in edge.db.execute("SELECT series, number, kind FROM invoices WHERE order_id = ? ORDER BY id",
                                     (order_id,))]


def find(edge: Edge, number: Any) -> tuple[dict[str, Any], int]:
    """(the document as issued, the owner's user id) for a number such as INV-2026-000042."""
    series, _, digits = number.rpartition("-") if isinstance(number, str) else ("", "", "")
    if not series or not digits.isdigit() or len(digits) > 12:
        raise NotFound("There is no invoice with that number.", code="unknown_invoice")
    row = edge.db.execute("SELECT i.data, o.user_id FROM invoices i JOIN orders o ON o.id = i.order_id"
                          " WHERE i.series = ? AND i.number = ?", (series, int(digits))).fetchone()
    if row is None:
        raise NotFound("There is no invoice with that number.", code="unknown_invoice")
    return json.loads(row["data"]), int(row["user_id"])


def series_gaps(edge: Edge) -> list[str]:
    """Every series whose numbers are not exactly 1..n (empty when there is no gap)."""
    return [f"{r['series']}: {r['n']} documents numbered up to {r['top']}" for r in edge.db.execute(
        "SELECT series, COUNT(*) AS n, MAX(number) AS top FROM invoices GROUP BY series HAVING COUNT(*) <> MAX(number)"
        " OR MIN(number) <> 1")]


# --- PDF ---------------------------------------------------------------------------------------

def _latin(text: Any) -> str:
    """fpdf2's core fonts are Latin-1: anything else is shown as '?' rather than failing."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _amount(minor: int, currency: str) -> str:
    # the naira and cedi signs are not in the core fonts: the ISO code is exact and printable
    return f"{'-' if minor < 0 else ''}{currency} {to_decimal(abs(minor), currency)}"


def pdf(data: dict[str, Any]) -> bytes:
    """The document as a one-or-more page A4 PDF."""
    title = "Invoice" if data["kind"] == "invoice" else "Credit note"
    cur = data["currency"]
    doc = FPDF(format="A4")
    doc.set_title(_latin(f"{title} {data['number']}"))
    doc.set_creator("DigitalDock")
    doc.add_page()
    doc.set_font("Helvetica", "B", 16)
    doc.cell(0, 10, _latin(f"{title} {data['number']}"), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=10)
    sup, buyer = data["supplier"], data["buyer"]
    rows = [f"Issued {data['issued_at'][:10]} for order {data['order']}"]
    if data.get("corrects"):
        rows.append(f"Corrects invoice {data['corrects']}")
    rows += ["", f"From: {sup['name']}", *( [sup["address"]] if sup["address"] else []),
             *([f"VAT id: {sup['vat_id']}"] if sup["vat_id"] else []),
             "", f"To: {buyer['name']} <{buyer['email']}>",
             *([f"Country: {buyer['country_name']} ({buyer['country']})"] if buyer["country"] else []),
             *([f"VAT id: {buyer['vat_id']}"] if buyer["vat_id"] else []), ""]
    for text in rows:
        doc.cell(0, 6, _latin(text), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", "B", 10)
    widths = (70, 40, 25, 25, 30)
    for w, h in zip(widths, ("Item", "Seller", "Net", "Tax", "Total"), strict=True):
        doc.cell(w, 7, h, border="B")
    doc.ln()
    doc.set_font("Helvetica", size=10)
    for line in data["lines"]:
        rate = f" ({line['tax_bps'] / 100:g}%)" if line["tax_bps"] else ""
        cells = (line["title"][:40], line["seller"][:22], _amount(line["net"], cur), _amount(line["tax"], cur) + rate,
                 _amount(line["total"], cur))
        for w, text in zip(widths, cells, strict=True):
            doc.cell(w, 7, _latin(text))
        doc.ln()
    doc.set_font("Helvetica", "B", 10)
    t = data["totals"]
    for label, value in (("Net", t["net"]), ("Tax", t["tax"]), ("Total", t["total"])):
        doc.cell(sum(widths[:4]), 7, label, align="R")
        doc.cell(widths[4], 7, _latin(_amount(value, cur)), new_x="LMARGIN", new_y="NEXT")
    doc.set_font("Helvetica", size=8)
    doc.ln(4)
    doc.multi_cell(0, 4, _latin("Prices include tax." if data["prices_include_tax"] else
                                "Tax is charged at the rate of the buyer's country on top of the price."))
    return bytes(doc.output())
