"""`digitaldock discount create|list|pause|resume` and `digitaldock affiliate invite|list`:
discount codes and affiliates for scripts and admins (docs/promotions.md). Each command calls
`checkout.payments.discounts` or `checkout.payments.affiliates`."""

from __future__ import annotations

import json
from typing import Any

import click

from checkout.cli.common import make_edge
from checkout.core.errors import EdgeError
from checkout.payments import affiliates, discounts, upsells
from digitaldock.money import format_money


def _fail(exc: EdgeError) -> click.ClickException:
    named = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    return click.ClickException(named if named and exc.message == type(exc).message else exc.message)


@click.group("discount")
def discount() -> None:
    """Discount codes: a seller's (--seller) or the platform's."""


@discount.command("create")
@click.argument("code")
@click.option("--percent", default=None, help="Percentage off, e.g. 10 or 12.5.")
@click.option("--amount", type=int, default=None, help="A fixed amount off, in minor units of --currency.")
@click.option("--currency", default=None, help="Currency of --amount and --min-order; the code then applies only to it.")
@click.option("--product", "products", multiple=True, help="Only these products (slugs); repeat. Default: all.")
@click.option("--seller", default="", help="The catalogue seller whose code this is (it costs them); none: a platform code.")
@click.option("--max-uses", type=int, default=None, help="Paid orders that may use it, all buyers together.")
@click.option("--per-buyer", type=int, default=None, help="Paid orders one buyer may use it for.")
@click.option("--min-order", type=int, default=None, help="Least order total (catalogue prices), minor units of --currency.")
@click.option("--starts", default=None, help="Valid from (ISO date or time, UTC unless it names an offset).")
@click.option("--ends", default=None, help="Valid until, not including (ISO date or time).")
@click.option("--first-purchase-only", is_flag=True, help="Only for a buyer's first paid order.")
def discount_create(code: str, percent: str | None, amount: int | None, currency: str | None, products: tuple[str, ...],
                    seller: str, max_uses: int | None, per_buyer: int | None, min_order: int | None,
                    starts: str | None, ends: str | None, first_purchase_only: bool) -> None:
    """Create the discount code CODE (case-insensitive, unique per seller / platform)."""
    try:
        code_id = discounts.create(make_edge(), code, percent=percent, amount=amount, currency=currency,
                                   products=products, seller=seller, max_uses=max_uses, per_buyer=per_buyer,
                                   min_order=min_order, starts=starts, ends=ends,
                                   first_purchase_only=first_purchase_only)
    except EdgeError as exc:
        raise _fail(exc) from None
    click.echo(json.dumps({"id": code_id, "code": code.strip().upper(), "seller": seller or None}))


@discount.command("list")
@click.option("--seller", default=None, help="Only this seller's codes ('' for the platform's).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def discount_list(seller: str | None, as_json: bool) -> None:
    """Every code with its uses, the discount given and the revenue with it."""
    for c in discounts.listing(make_edge(), seller):
        report = [{"currency": r["currency"], "uses": r["uses"], "discount": r["discount"].minor,
                   "revenue": r["revenue"].minor} for r in c["report"]]
        if as_json:
            click.echo(json.dumps({"code": c["code_key"], "seller": c["seller"] or None, "offer": c["describe"],
                                   "paused": bool(c["paused"]), "max_uses": c["max_uses"], "uses": c["uses"],
                                   "products": c["products"], "starts": c["starts_at"], "ends": c["ends_at"],
                                   "report": report}))
            continue
        figures = ", ".join(f"{format_money(r['discount'], r['currency'])} off, "
                            f"{format_money(r['revenue'], r['currency'])} revenue" for r in report) or "no uses"
        limit = f"/{c['max_uses']}" if c["max_uses"] else ""
        click.echo(f"{c['code_key']:20} {c['seller'] or '(platform)':14} {c['describe']:16} "
                   f"{'paused ' if c['paused'] else ''}{c['uses']}{limit} uses; {figures}")


def _pause(code: str, seller: str, paused: bool) -> None:
    try:
        discounts.set_paused(make_edge(), code, paused, seller)
    except EdgeError as exc:
        raise _fail(exc) from None
    click.echo(f"{code.strip().upper()} {'paused' if paused else 'resumed'}")


@discount.command("pause")
@click.argument("code")
@click.option("--seller", default="", help="The seller whose code it is; none: the platform's.")
def discount_pause(code: str, seller: str) -> None:
    """Stop CODE from being applied (orders already priced with it keep their price)."""
    _pause(code, seller, True)


@discount.command("resume")
@click.argument("code")
@click.option("--seller", default="", help="The seller whose code it is; none: the platform's.")
def discount_resume(code: str, seller: str) -> None:
    """Let a paused CODE be applied again."""
    _pause(code, seller, False)


@click.group("affiliate")
def affiliate() -> None:
    """Affiliates: accounts earning a commission on a seller's sales through their ?via= link."""


@affiliate.command("invite")
@click.argument("email")
@click.option("--seller", required=True, help="The catalogue seller whose sales earn the commission.")
@click.option("--percent", required=True, help="Commission, percent of what the buyer pays, e.g. 20.")
@click.option("--product", "products", multiple=True, help="Only these products (slugs); repeat. Default: all.")
@click.option("--code", default=None, help="The link code (?via=CODE); default: from the account's name and the seller.")
def affiliate_invite(email: str, seller: str, percent: str, products: tuple[str, ...], code: str | None) -> None:
    """Make the account EMAIL an affiliate of SELLER."""
    try:
        made = affiliates.invite(make_edge(), seller, email, percent, products, code)
    except EdgeError as exc:
        raise _fail(exc) from None
    click.echo(json.dumps({"id": made["id"], "code": made["code"], "seller": seller,
                           "commission_bps": made["commission_bps"]}))


@affiliate.command("list")
@click.option("--seller", default=None, help="Only this seller's affiliates.")
def affiliate_list(seller: str | None) -> None:
    """Every affiliate with clicks, sales and earnings (one JSON object per line)."""
    for a in affiliates.listing(make_edge(), seller=seller):
        click.echo(json.dumps({"code": a["code"], "seller": a["seller"], "email": a["email"], "percent": a["percent"],
                               "active": bool(a["active"]), "clicks": a["clicks"], "sales": a["sales"],
                               "earned": {b["currency"]: b["earned"].minor for b in a["balances"]},
                               "available": {b["currency"]: b["available"].minor for b in a["balances"]}}))


@click.group("upsell")
def upsell() -> None:
    """Checkout offers: another product of the same seller, added with one click before paying."""


@upsell.command("set")
@click.argument("product")
@click.argument("offer")
@click.option("--percent", default=None, help="Percent off the offered product (the seller's discount).")
def upsell_set(product: str, offer: str, percent: str | None) -> None:
    """Offer OFFER at the checkout of PRODUCT (both one seller's; replaces an earlier offer)."""
    try:
        upsells.set_offer(make_edge(), product, offer, percent)
    except EdgeError as exc:
        raise _fail(exc) from None
    click.echo(json.dumps({"product": product, "offer": offer, "percent": percent}))


@upsell.command("remove")
@click.argument("product")
def upsell_remove(product: str) -> None:
    """Stop offering anything at the checkout of PRODUCT."""
    try:
        upsells.remove_offer(make_edge(), product)
    except EdgeError as exc:
        raise _fail(exc) from None
    click.echo(f"{product}: no offer")


@upsell.command("list")
def upsell_list() -> None:
    """Every checkout offer (one JSON object per line)."""
    for row in upsells.offers(make_edge()):
        click.echo(json.dumps({k: row[k] for k in ("product_slug", "seller", "offer_slug", "percent_bps")}))


@upsell.command("together")
@click.option("--min-buyers", type=int, default=3, show_default=True,
              help="Buyers who must own both products before a pair is shown (never one buyer's purchases).")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Write content/together.yml here (default: print it).")
def upsell_together(min_buyers: int, output: str | None) -> None:
    """Export "often bought together" from real co-purchases, for the build (like ratings.yml)."""
    found = upsells.bought_together(make_edge(), min_buyers)
    text = "".join(f"{slug}: [{', '.join(others)}]\n" for slug, others in sorted(found.items()))
    header = "# Often bought together: exported by `digitaldock upsell together` from the edge's purchases.\n"
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(header + text)
        click.echo(f"{len(found)} products written to {output}")
    else:
        click.echo(header + text, nl=False)


def demo_promotions(e: Any, seller: str | None) -> list[str]:
    """For `digitaldock seed`: the demo seller's discount code and the demo buyer as its
    affiliate, made through the same functions as the consoles (kept if they exist)."""
    if not seller or seller not in e.catalog.current().sellers:  # no storefront built yet: nothing to promote
        return []
    if not e.db.execute("SELECT 1 FROM discount_codes WHERE seller = ? AND code_key = 'WELCOME10'", (seller,)).fetchone():
        discounts.create(e, "WELCOME10", percent="10", seller=seller)
    buyer = e.db.execute("SELECT id FROM users WHERE email = 'buyer@example.com'").fetchone()
    found = e.db.execute("SELECT code FROM affiliates WHERE seller = ? AND user_id = ?",
                         (seller, buyer["id"])).fetchone() if buyer else None
    if buyer and found is None:
        found = affiliates.invite(e, seller, "buyer@example.com", "20")
    lines = [f"promo   WELCOME10 takes 10% off {seller}'s products (/buy?...&code=WELCOME10)"]
    if found:
        lines.append(f"promo   buyer@example.com earns 20% on {seller}'s sales through ?via={found['code']} (/affiliate)")
    return lines


COMMANDS = [discount, affiliate, upsell]
