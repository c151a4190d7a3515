"""`digitaldock build` and `digitaldock serve`: the storefront's commands."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import click

from digitaldock import THEME_DIR
from digitaldock.schema import ContentError

from .build import build as build_site
from .build import last_build


def settings_file(given: Path | None) -> Path | None:
    """The settings file to build with: the one given, ./pelicanconf.py, or None (built-in)."""
    if given is not None:
        return given
    here = Path("pelicanconf.py")
    return here if here.is_file() else None


def run_build(output: Path, settings: Path | None) -> bool:
    """Build once, printing every content problem as path:line: field: message."""
    settings = settings_file(settings)
    try:
        build_site(output, settings)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"build failed: {len(exc.problems)} problem(s); the previous site is unchanged",
                   err=True)
        return False
    return True


@click.command()
@click.option("-o", "--output", default="output", show_default=True, type=click.Path(path_type=Path),
              help="Folder to write the site into.")
@click.option("-s", "--settings", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Pelican settings file (publishconf.py for production URLs); default: pelicanconf.py "
                   "when there is one here, else the storefront's own settings.")
def build(output: Path, settings: Path | None) -> None:
    """Build the static storefront from content/ (same result as `pelican -s pelicanconf.py`)."""
    if not run_build(output, settings):
        sys.exit(1)
    # this process ends next: spare the interpreter's final collection over the whole site
    # model (a tenth of a second at 10,000 products); memory is returned at exit regardless
    gc.freeze()
    stats = last_build(output)
    click.echo(f"built {output}: rendered {len(stats.rendered)} of {stats.total} files"
               if stats else f"built {output}")


def built_urls(settings: Path | None) -> tuple[str, str]:
    """SITE_URL and CHECKOUT_URL as a build with these settings uses them: the local server's
    policy lets pages reach exactly the edge the built pages name."""
    if settings is None:
        from .defaults import urls

        return urls()
    from pelican.settings import read_settings

    found = read_settings(str(settings))
    return found["SITEURL"], found.get("CHECKOUT_URL") or found["SITEURL"]


@click.command()
@click.option("-o", "--output", default="output", show_default=True, type=click.Path(path_type=Path))
@click.option("-s", "--settings", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(output: Path, settings: Path | None, host: str, port: int) -> None:  # pragma: no cover - interactive
    """Build, serve the site on HOST:PORT and rebuild whenever content or the theme changes."""
    from .build import default_cache_dir
    from .serve import make_server, wait_forever, watch

    run_build(output, settings)
    watch([Path("content"), THEME_DIR, *[p for p in [settings_file(settings)] if p]],
          lambda: run_build(output, settings) and click.echo("rebuilt"),
          ignore=[output, default_cache_dir(output.resolve())])
    site_url, checkout_url = built_urls(settings_file(settings))
    server = make_server(output, host, port, site_url=site_url, checkout_url=checkout_url)
    click.echo(f"storefront on http://{host}:{port}/ (rebuilds on change; Ctrl-C stops)")
    import threading

    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        wait_forever()
    except KeyboardInterrupt:
        server.shutdown()


COMMANDS = [build, serve]
