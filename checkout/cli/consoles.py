"""`digitaldock` commands of the consoles (issue #16): account standing (`user find|show|ban|unban|
verify|unverify`), reports (`report sales|payouts`) and the seller statement (`ledger statement`).

Each calls the library the admin console calls; an operator's action is audited as done by
"an operator (command line)".
"""

from __future__ import annotations

import datetime as dt
import json

import click

from checkout.accounts import standing as accounts_standing
from checkout.accounts import users
from checkout.cli.common import make_edge
from checkout.core.errors import EdgeError
from checkout.delivery import standing
from checkout.payments import reports, statements
from checkout.payments.payouts import held_sellers


def _account(edge, email: str):
    found = users.get_by_email(edge, email)
    if found is None:
        raise click.ClickException(f"no account with email {email!r}")
    return found


def _run(fn, *args):
    try:
        return fn(*args)
    except EdgeError as exc:
        detail = "; ".join(exc.fields.values()) if exc.fields else exc.message
        raise click.ClickException(detail) from None


@click.command("find")
@click.argument("query", default="")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
def user_find(query: str, limit: int) -> None:
    """Accounts whose email or name contains QUERY (all when empty), newest first, as JSON lines."""
    e = make_edge()
    for row in accounts_standing.search(e, query, limit):
        click.echo(json.dumps(accounts_standing.describe({**row, "ban_reason": None})))


@click.command("show")
@click.argument("email")
def user_show(email: str) -> None:
    """One account: standing, sellers, held payouts."""
    e = make_edge()
    found = _account(e, email)
    sellers = standing.sellers_of(e, found["id"])
    click.echo(json.dumps({**accounts_standing.describe(found), "sellers": sellers,
                           "payouts_held": sorted(set(sellers) & held_sellers(e))}, indent=2))


@click.command("ban")
@click.argument("email")
@click.option("--reason", required=True, help="Why (emailed to the account, kept in the audit log).")
def user_ban(email: str, reason: str) -> None:
    """Ban an account: sessions and API tokens revoked now, sign-in refused, its sellers unlisted on
    the next build, their payouts held."""
    e = make_edge()
    click.echo(_run(standing.ban, e, _account(e, email)["id"], None, reason).said)


@click.command("unban")
@click.argument("email")
@click.option("--reason", required=True, help="Why the ban is lifted (kept in the audit log).")
def user_unban(email: str, reason: str) -> None:
    """Lift a ban: sign-in allowed, sellers listed again on the next build, payouts resume."""
    e = make_edge()
    click.echo(_run(standing.unban, e, _account(e, email)["id"], None, reason).said)


@click.command("verify")
@click.argument("email")
def user_verify(email: str) -> None:
    """Verify a seller: the storefront shows its badge after the next build."""
    e = make_edge()
    click.echo(_run(standing.set_verified, e, _account(e, email)["id"], None, True, "").said)


@click.command("unverify")
@click.argument("email")
@click.option("--reason", required=True, help="Why the badge goes (kept in the audit log).")
def user_unverify(email: str, reason: str) -> None:
    """Take a seller's verified badge away."""
    e = make_edge()
    click.echo(_run(standing.set_verified, e, _account(e, email)["id"], None, False, reason).said)


USER_COMMANDS = [user_find, user_show, user_ban, user_unban, user_verify, user_unverify]


@click.group("report")
def report_group() -> None:
    """Sales, revenue and payout reports from the ledger (as the admin console shows them)."""


def _range(e, start: str | None, end: str | None, days: int = 30) -> reports.Range:
    today = dt.date.fromisoformat(e.clock.iso()[:10])
    return _run(reports.parse_range, start, end, today, days)


@report_group.command("sales")
@click.option("--from", "start", default=None, help="First UTC day, YYYY-MM-DD (default: 30 days ago).")
@click.option("--to", "end", default=None, help="Last UTC day, YYYY-MM-DD (default: today).")
@click.option("--period", type=click.Choice(reports.PERIODS), default="day", show_default=True)
@click.option("--group", type=click.Choice(reports.GROUPS), default="currency", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON in minor units instead of CSV.")
def report_sales(start: str | None, end: str | None, period: str, group: str, as_json: bool) -> None:
    """Sales and revenue per period and currency, seller, product or category (CSV by default)."""
    e = make_edge()
    r = _range(e, start, end)
    cats = {slug: p.category for slug, p in e.catalog.current().products.items() if p.category}
    found = reports.sales(e.db, r, period, group, categories=cats)
    if as_json:
        click.echo(json.dumps({"from": r.start.isoformat(), "to": r.end.isoformat(), "rows": found.rows,
                               "totals": found.totals}, indent=2))
    else:
        click.echo(reports.sales_csv(found), nl=False)


@report_group.command("payouts")
@click.option("--from", "start", default=None, help="First UTC day (default: 90 days ago).")
@click.option("--to", "end", default=None, help="Last UTC day (default: today).")
def report_payouts(start: str | None, end: str | None) -> None:
    """Payouts created in the range, as CSV."""
    e = make_edge()
    click.echo(reports.payouts_csv(reports.payouts(e.db, _range(e, start, end, 90))), nl=False)


@report_group.command("tie-out")
def report_tie_out() -> None:
    """Each report total beside the ledger's balance; exit 1 when any differs."""
    e = make_edge()
    rows = reports.tie_out(e.db)
    for t in rows:
        click.echo(f"{t['currency']} {t['figure']:40} report {t['report']:>16} ledger {t['ledger']:>16} "
                   f"{'ok' if t['ok'] else 'DIFFERENT'}")
    if not all(t["ok"] for t in rows):
        raise SystemExit(1)


@click.command("statement")
@click.option("--seller", "slug", required=True, help="The catalogue seller's slug.")
@click.option("--verify", "check", is_flag=True, help="Recompute every sealed month; exit 1 on a mismatch.")
@click.option("--seal/--no-seal", default=True, show_default=True, help="Seal the closed months first.")
@click.option("--csv", "as_csv", is_flag=True, help="Every entry with its running balance, as CSV.")
def ledger_statement(slug: str, check: bool, seal: bool, as_csv: bool) -> None:
    """A seller's statement: monthly seals chained by hash, and with --verify the check of the chain."""
    e = make_edge()
    if seal and not check:
        statements.seal_due(e, slug)
    if as_csv:
        click.echo(reports.csv_text(statements.CSV_COLUMNS, statements.csv_rows(statements.entries(e.db, slug)),
                                    statements.CSV_LABELS), nl=False)
        return
    result = statements.verify(e.db, slug)
    for month in result.months:
        click.echo(f"{month['month']} {month['hash']} {month['entries']:>6} entries {'ok' if month['ok'] else 'BROKEN'}")
    if not result.months:
        click.echo(f"{slug}: no sealed month yet")
    for problem in result.problems:
        click.echo(f"BREACH: {problem}", err=True)
    if check and not result.ok:
        raise SystemExit(1)
    if check:
        click.echo(f"{slug}: {len(result.months)} sealed month(s), every seal matches the entries")


COMMANDS = [report_group]
