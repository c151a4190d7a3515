"""`digitaldock reviews export`: write the ratings, latest reviews and units sold that the static
build reads (docs/content.md), and rebuild the storefront when they changed."""

from __future__ import annotations

from pathlib import Path

import click

from checkout.cli.common import make_edge
from checkout.reviews import export as stats_export
from digitaldock.stats import write_stats


@click.group()
def reviews() -> None:
    """Reviews, ratings and popularity."""


@reviews.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of REVIEWS_STATS_PATH (then no rebuild).")
@click.option("--rebuild/--no-rebuild", default=True, show_default=True,
              help="Rebuild the storefront when the stats changed (REBUILD_ON_APPROVAL must be on).")
def reviews_export(output: Path | None, rebuild: bool) -> None:
    """Export per-product rating count, average, histogram, latest reviews and units sold (30 days)."""
    edge = make_edge()
    if output is not None:
        stats = stats_export.export(edge)
        changed = write_stats(stats, output)
        click.echo(f"{output}: {len(stats.products)} products, {'written' if changed else 'unchanged'}")
        return
    changed, problem = stats_export.publish(edge, rebuild=rebuild)
    click.echo(f"{edge.settings.stats_path}: {'written' if changed else 'unchanged'}")
    if problem:
        raise click.ClickException(f"the storefront rebuild failed: {problem}")


COMMANDS = [reviews]
