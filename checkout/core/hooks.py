"""Every extension point of the edge, declared in one place.

The model is Datasette's `hookspecs.py` and Pelican's `signals.py`: this file says what can be
extended and with what signature; it implements nothing. No package registers itself when it
is imported. `checkout.wiring.register` adds the built-in implementations explicitly when an
edge is built, so what a running edge does never depends on which modules happened to be
imported first (the retention job once ran fewer steps from the CLI than from the web app).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - annotations only; context imports this module
    from checkout.core.catalog import CatalogState

RetentionTask = Callable[[Any, float], dict[str, int]]
"""`task(edge, now) -> {what: count}`: one step of the daily retention job; counts join its report."""

CatalogListener = Callable[[Any, "CatalogState"], None]
"""`listener(edge, state)`: called once for every newly loaded catalogue; must not raise."""

AlertCheck = Callable[[Any], "str | None"]
"""`check(edge) -> message | None`: a message when something needs a person, run by `digitaldock alerts`."""

EventListener = Callable[[Any, str, dict[str, Any]], None]
"""`listener(edge, event, data)`: a domain event (`sale`, `refund`, `payout`...) happened; called
inside the transaction of the change (`checkout.core.signals.emit`), so what it writes (queued
webhook deliveries) commits or rolls back with it. Must not call the network."""

ModerationQueue = Callable[[Any], dict[str, Any]]
"""`queue(edge) -> {"title", "count", "link", "items": [{"summary", "link"}]}`: one more kind of
thing for the admin's moderation queue and home page (reported reviews, when reviews exist)."""


@dataclass
class Hooks:
    """The registry one edge carries (`edge.hooks`)."""

    retention_tasks: list[tuple[str, RetentionTask]] = field(default_factory=list)
    """Steps of the retention job, run in order by `checkout.core.retention.run`."""

    catalog_listeners: list[CatalogListener] = field(default_factory=list)
    """Called with each catalogue the edge loads (legal versions noted, products recorded)."""

    email_subjects: dict[str, str] = field(default_factory=dict)
    """Subject line of each email template; the outbox refuses a template nobody registered."""

    alert_checks: list[tuple[str, AlertCheck]] = field(default_factory=list)
    """(alert kind, check), run in order by `checkout.ops.alerts.run_checks`."""

    event_listeners: list[EventListener] = field(default_factory=list)
    """Told of every domain event (`checkout.core.signals.EVENTS`): outgoing webhooks queue deliveries."""

    moderation_queues: list[tuple[str, ModerationQueue]] = field(default_factory=list)
    """(name, queue) shown on /admin/moderation and counted on /admin; the built-in queues
    (submissions, reported products, seller claims, flagged payments) have pages of their own.
    A queue named "reviews" replaces the note that reviews are not built yet."""
