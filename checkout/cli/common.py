"""What every command needs: the settings, and an edge built from them, or a clear error."""

from __future__ import annotations

import click

from checkout.core import logs, sentry
from checkout.core.context import Edge
from checkout.core.errors import EdgeError
from checkout.core.settings import Settings, load_settings
from checkout.wiring import build_edge


def settings() -> Settings:
    """The settings from the environment; a bad value stops the command with its message."""
    try:
        return load_settings()
    except EdgeError as exc:
        raise click.ClickException(exc.message) from None


def make_edge() -> Edge:
    """A wired, migrated edge for a command; logs configured, alerts from timers reach Sentry."""
    found = settings()
    logs.configure(found.LOG_LEVEL, found.LOG_FILE)
    sentry.init(found.SENTRY_DSN.reveal(), found.DIGITALDOCK_ENV)
    edge = build_edge(found)
    try:
        edge.migrate()
    except EdgeError as exc:
        raise click.ClickException(exc.message) from None
    return edge
