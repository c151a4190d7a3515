"""`digitaldock` subcommands for payments: sandbox, ledger check, reconcile, payouts, seller link."""

from __future__ import annotations

import json

import click

from checkout.accounts import users
from checkout.cli.common import make_edge
from checkout.cli.common import settings as load_settings
from checkout.cli.consoles import ledger_statement
from checkout.core import audit
from checkout.core.db import atomic
from checkout.core.errors import EdgeError
from checkout.payments import provider
from checkout.payments.charges import reconcile as run
from checkout.payments.ledger import balances, check
from checkout.payments.payouts import link_seller, run_payouts, verify_in_flight


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8002, show_default=True, type=int, help="Port to listen on.")
@click.option("--public-url", default="", help="URL buyers reach the sandbox at (default: as requested).")
def sandbox(host: str, port: int, public_url: str) -> None:
    """Run the local Paystack sandbox (key: PAYSTACK_SECRET_KEY; webhooks to PAYSTACK_WEBHOOK_URL)."""
    import uvicorn

    from checkout.sandbox import Sandbox

    settings = load_settings()
    box = Sandbox(settings.PAYSTACK_SECRET_KEY.reveal(), settings.PAYSTACK_WEBHOOK_URL, public_url)
    uvicorn.run(box.app(), host=host, port=port, log_level="warning", server_header=False)


@click.group("ledger")
def ledger_group() -> None:
    """Inspect the double-entry ledger."""


@ledger_group.command("check")
def ledger_check() -> None:
    """Verify every ledger invariant; exit 1 on any breach."""

    problems = check(make_edge().db)
    for p in problems:
        click.echo(f"BREACH: {p}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("ledger ok")


@ledger_group.command("balances")
@click.option("--prefix", default="", help="Only accounts starting with this.")
def ledger_balances(prefix: str) -> None:
    """Print every account balance (per currency) derived from the entries."""

    for (account, currency), total in sorted(balances(make_edge(), prefix).items()):
        click.echo(f"{account:48} {currency} {total}")


@click.command()
@click.option("--older-than", type=float, default=None, help="Seconds a pending order must be old (default: RECONCILE_AFTER_SECONDS).")
def reconcile(older_than: float | None) -> None:
    """Verify orders left pending and payouts long in flight with Paystack, apply the outcome
    (heals missed webhooks) and book fees a fee-less event left unknown."""

    edge = make_edge()
    counts = run(edge, older_than)
    counts.update({f"transfer_{k}": v for k, v in verify_in_flight(edge).items()})
    click.echo(json.dumps(counts))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(as_json: bool) -> None:
    """Check the Paystack account: reachable, test or live, the currencies it accepts and pays
    out in, and catalogue currencies it would refuse. Exit 1 when something stops sales."""

    found = provider.report(make_edge())
    if as_json:
        click.echo(json.dumps(found, sort_keys=True))
    else:
        click.echo(f"paystack {found['api']} ({found['mode']} key), circuit {found['circuit']}")
        if found.get("currencies") is not None:
            click.echo(f"accepts: {', '.join(found['currencies']) or 'nothing'}")
            click.echo(f"pays out in: {', '.join(found['payout_currencies']) or 'nothing'}")
        click.echo(f"catalogue sells in: {', '.join(found['catalogue_currencies']) or 'nothing yet'}")
        for p in found["problems"]:
            click.echo(f"PROBLEM: {p}", err=True)
    if found["problems"]:
        raise SystemExit(1)


@click.group()
def payouts() -> None:
    """Seller payouts."""


@payouts.command("run")
def payouts_run() -> None:
    """Release earnings past the refund window and pay out available balances."""

    click.echo(json.dumps(run_payouts(make_edge())))


@click.group()
def seller() -> None:
    """Link user accounts to catalogue sellers."""


@seller.command("link")
@click.argument("email")
@click.argument("seller_slug")
@click.option("--fee-bps", type=int, default=None, help="A platform fee for this seller (basis points), e.g. 500 for premium.")
def seller_link(email: str, seller_slug: str, fee_bps: int | None) -> None:
    """Let the account EMAIL manage the catalogue seller SELLER_SLUG (and see its earnings)."""

    e = make_edge()
    user = users.get_by_email(e, email)
    if user is None:
        raise click.ClickException(f"no account with email {email!r}")
    if seller_slug not in e.catalog.current().sellers:
        click.echo(f"warning: {seller_slug!r} is not a seller in the loaded catalogue", err=True)
    try:
        link_seller(e, user["id"], seller_slug, fee_bps)
    except EdgeError as exc:
        raise click.ClickException(exc.message) from None
    with atomic(e.db):
        if user["role"] == "buyer":
            users.set_role(e, user["id"], "seller", actor_id=None)
        audit.record(e, "payment.seller_linked", subject_id=user["id"], seller=seller_slug, fee_bps=fee_bps)
    click.echo(json.dumps({"email": user["email"], "seller": seller_slug, "fee_bps": fee_bps}))


# `digitaldock user link-seller EMAIL SLUG`: the same link beside the other account commands
# (checkout.cli.edge adds it to its `user` group).
user_link_seller = click.Command("link-seller", callback=seller_link.callback, params=seller_link.params,
                                 help=seller_link.help)
ledger_group.add_command(ledger_statement)  # `digitaldock ledger statement --seller SLUG [--verify]`
COMMANDS = [sandbox, ledger_group, reconcile, doctor, payouts, seller]
