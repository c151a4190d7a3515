"""`digitaldock delivery check`: the daily delivery check (run it from cron or a systemd timer).

Queues the new-version emails for products whose version changed, then reports every paid
order whose buyer has no working download and every purchased file missing from storage.
Exits 1 when there is anything to report, so a scheduler can alert on it.
"""

from __future__ import annotations

import click

from checkout.cli.common import make_edge
from checkout.delivery import library


@click.group()
def delivery() -> None:
    """Delivery of purchased files."""


@delivery.command("check")
def delivery_check() -> None:
    """Email owners about new versions; report paid orders without a working download."""

    edge = make_edge()
    queued = library.notify_new_versions(edge)
    problems = library.check(edge)
    click.echo(f"new-version emails queued: {queued}")
    for p in problems:
        click.echo(p)
    if problems:
        raise click.ClickException(f"{len(problems)} delivery problem(s)")
    click.echo("every paid order has a working download")


COMMANDS = [delivery]
