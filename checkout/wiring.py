"""The one place the edge is assembled: every built-in extension registered explicitly.

`build_edge` is how the web app, the CLI and the tests get an `Edge`. Nothing registers itself
on import (see `checkout.core.hooks`), so reading this file tells what a running edge does on
each extension point, in order.
"""

from __future__ import annotations

import sqlite_utils

from checkout import accounts, delivery, integrations, ops, payments, reviews
from checkout.accounts import consent, gdpr
from checkout.core import idempotency
from checkout.core.clock import Clock
from checkout.core.context import Edge
from checkout.core.hooks import Hooks
from checkout.core.settings import Settings
from checkout.delivery import library, uploads
from checkout.delivery import retention as product_files
from checkout.integrations import webhooks
from checkout.ops import alerts
from checkout.payments import affiliates, events
from checkout.reviews import invites, wishlist
from checkout.reviews import reviews as review_rules


def register(hooks: Hooks) -> Hooks:
    """Add the built-in implementations of every extension point to `hooks`."""
    for area in (accounts, payments, delivery, reviews, ops, integrations):
        hooks.email_subjects.update(area.EMAIL_SUBJECTS)
    hooks.retention_tasks += [
        ("personal data", gdpr.prune_personal_data),  # accounts, sessions, tokens, audit log, emails
        ("API idempotency keys", idempotency.prune),  # a retried POST is answered the same for a day
        ("webhook deliveries", webhooks.prune),  # sellers' delivery logs keep a month
        ("refused webhooks", events.prune_rejected),
        ("download addresses", library.forget_download_addresses),
        ("withdrawn products' files", product_files.purge_removed_files),
        ("review invitations", invites.send_invitations),  # once per purchase, a few days after it
        ("affiliates of closed accounts", affiliates.stop_closed_accounts),  # issue #17
    ]
    hooks.catalog_listeners += [
        consent.note_versions,  # a new version of a legal document: its users are emailed
        product_files.on_catalog_load,  # products that left the catalogue start their retention
        wishlist.on_catalog_load,  # a saved product got cheaper: opted-in savers are emailed
    ]
    hooks.moderation_queues.append(("reviews", review_rules.moderation_queue))  # held and reported reviews
    hooks.event_listeners += [
        webhooks.on_event,  # sellers' webhook endpoints: deliveries queued with the change
    ]
    hooks.alert_checks += alerts.CHECKS
    hooks.alert_checks.append(("upload_scanner", uploads.check_scanner))  # uploads fail closed without clamd
    return hooks


def build_edge(settings: Settings, clock: Clock | None = None, db: sqlite_utils.Database | None = None) -> Edge:
    """An `Edge` with every built-in extension registered."""
    return Edge(settings, clock, db, hooks=register(Hooks()))
