"""Taxes (issue #18): the buyer's country, its rate, the ledger's tax accounts and the report.

- **Rates** come from `content/tax_rates.yml` (`digitaldock.taxrates`), read again when the
  file changes. A country the file does not list pays the default (no tax).
- **Country**: the buyer picks it at checkout; Paystack reports the card's country
  (`authorization.country_code`). When they differ the order is marked (`country_mismatch`,
  listed for the admin), never blocked: travellers and foreign cards are common, and the tax
  was charged on the buyer's own declaration.
- **Ledger**: the tax of a sale is owed to the buyer's country, so it goes to
  `tax:<COUNTRY>:payable` (a liability, normally negative) in the sale's own journal, and back
  out in the refund's journal. It is never part of the platform's fee or the seller's share:
  those are cut from the line's amount before tax (`pricing.tax_step`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import structlog

from checkout.core.context import Edge
from checkout.core.errors import ValidationFailed
from digitaldock import taxrates
from digitaldock.money import to_decimal

log = structlog.get_logger("checkout.payments.taxes")

NO_COUNTRY = "ZZ"  # the ledger's name for "the buyer gave no country" (ISO's user-assigned code)


def tax_account(country: str | None) -> str:
    return f"tax:{country or NO_COUNTRY}:payable"


def rates(edge: Edge) -> taxrates.TaxRates:
    """The rates file, read again when it changes; a broken file keeps the last good rates (and
    logs why), so a bad edit cannot stop checkout. `digitaldock validate` refuses it in CI."""
    path = Path(edge.settings.tax_rates_path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    cached = getattr(edge, "_tax_rates", None)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        loaded = taxrates.load(path)
    except (taxrates.TaxRatesError, OSError, UnicodeDecodeError) as exc:
        log.error("tax_rates_unreadable", path=str(path), error=str(exc))
        if cached is not None:
            return cached[1]
        loaded = taxrates.TaxRates()
    edge._tax_rates = (stamp, loaded)  # type: ignore[attr-defined]
    return loaded


def parse_country(edge: Edge, value: Any) -> str | None:
    """The buyer's country from a form or JSON field: a code the rates file lists, or None when
    left empty; anything else is a clear error naming `country`."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 8:
        raise ValidationFailed("country: choose your country from the list.",
                               fields={"country": "Choose your country from the list."})
    code = value.strip().upper()
    if code not in rates(edge).countries:
        raise ValidationFailed("country: choose your country from the list.",
                               fields={"country": "Choose your country from the list."})
    return code


def parse_vat_id(value: Any) -> str:
    """An optional VAT id for the invoice: letters and digits (spaces and dots dropped), 4–20."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > 40:
        raise ValidationFailed("vat_id: enter a VAT number such as DE123456789, or leave it empty.",
                               fields={"vat_id": "Enter a VAT number such as DE123456789, or leave it empty."})
    cleaned = "".join(ch for ch in value.upper() if ch not in " .-")
    if not 4 <= len(cleaned) <= 20 or not cleaned.isascii() or not cleaned.isalnum():
        raise ValidationFailed("vat_id: enter a VAT number such as DE123456789, or leave it empty.",
                               fields={"vat_id": "Enter a VAT number such as DE123456789, or leave it empty."})
    return cleaned


def check_card_country(edge: Edge, order: dict[str, Any], data: dict[str, Any]) -> None:
    """Record the card's country and mark the order when it differs from the buyer's choice
    (inside the payment's transaction). Never blocks the payment."""
    auth = data.get("authorization")
    card = auth.get("country_code") if isinstance(auth, dict) else None
    if not isinstance(card, str) or not taxrates.COUNTRY.match(card):
        return
    chosen = order.get("tax_country")
    mismatch = None
    if chosen and card != chosen:
        mismatch = f"The buyer chose {chosen}; Paystack reports a card from {card}."
    elif not chosen and rates(edge).rate_for(card).bps:
        mismatch = f"The buyer chose no country; Paystack reports a card from {card}, where tax is due."
    edge.db.execute("UPDATE orders SET card_country = ?, country_mismatch = ? WHERE id = ?",
                    (card, mismatch, order["id"]))
    if mismatch:
        log.warning("tax_country_mismatch", reference=order["reference"], chosen=chosen, card=card)


def mismatches(edge: Edge, limit: int = 100) -> list[dict[str, Any]]:
    """Paid orders whose card country differs from the buyer's choice, newest first."""
    return [dict(r) for r in edge.db.execute(
        "SELECT id, reference, email, tax_country, card_country, country_mismatch, paid_at FROM orders"
        " WHERE country_mismatch IS NOT NULL ORDER BY id DESC LIMIT ?", (limit,))]


def report(edge: Edge, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
    """Tax collected per country and currency over [start, end) (UTC dates `YYYY-MM-DD`), from
    the ledger's tax accounts: taxable sales, tax charged, tax refunded and the net owed."""
    where, args = ["e.account LIKE 'tax:%'", "j.kind IN ('sale', 'refund')"], []
    if start:
        where.append("j.created_at >= ?")
        args.append(start)
    if end:
        where.append("j.created_at < ?")
        args.append(end)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for r in edge.db.execute(
            "SELECT e.account, e.currency, j.kind, SUM(e.amount) AS tax, SUM(l.amount) AS base, COUNT(*) AS n"
            " FROM ledger_entries e JOIN ledger_journals j ON j.id = e.journal_id"
            " LEFT JOIN order_lines l ON l.id = e.order_line_id"
            f" WHERE {' AND '.join(where)} GROUP BY e.account, e.currency, j.kind", args):
        country = r["account"].split(":")[1]
        row = rows.setdefault((country, r["currency"]), {"country": country, "currency": r["currency"],
                                                          "lines": 0, "taxable": 0, "charged": 0, "refunded": 0})
        if r["kind"] == "sale":
            row["lines"] += r["n"]
            row["taxable"] += r["base"] or 0
            row["charged"] -= r["tax"]
        else:
            row["taxable"] -= r["base"] or 0
            row["refunded"] += r["tax"]
    names = rates(edge)
    out = []
    for (country, _currency), row in sorted(rows.items()):
        row["net"] = row["charged"] - row["refunded"]
        row["name"] = names.rate_for(country).name if country != NO_COUNTRY else "No country given"
        out.append(row)
    return out


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The tax report as CSV, amounts as exact decimals of their currency."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["country", "name", "currency", "lines", "taxable", "tax charged", "tax refunded", "tax owed"])
    for r in rows:
        w.writerow([r["country"], r["name"], r["currency"], r["lines"],
                    *(to_decimal(r[k], r["currency"]) for k in ("taxable", "charged", "refunded", "net"))])
    return buf.getvalue()
