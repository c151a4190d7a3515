"""Domain events: what happened, told to whoever registered for it (`edge.hooks.event_listeners`).

The packages that change state (payments for sales, refunds and payouts; delivery for
approvals; the issues to come for reviews and licenses) call `emit()` inside the transaction of
the change. Listeners (outgoing webhooks, `checkout.integrations`) write their own rows in
that same transaction, so an event is queued exactly when its change commits.
"""

from __future__ import annotations

from typing import Any

from checkout.core.context import Edge

EVENTS: dict[str, str] = {
    "sale": "A paid order included products of the seller (one event per seller and order).",
    "refund": "A refund of one of the seller's sales was processed; the buyer's access ended.",
    "payout": "A payout to the seller's bank account succeeded, failed or was reversed.",
    "product.approved": "A product the seller submitted was approved.",
    "review": "A review of one of the seller's products was published (approved at once, after moderation, or after an edit).",
    "ping": "A test event sent from the dashboard or the API (`send test event`).",
}
"""Every event a webhook endpoint can subscribe to. Issues that add events (review,
license.activated...) add a line here and call `emit` where it happens."""


def emit(edge: "Edge", event: str, data: dict[str, Any]) -> None:
    """Tell every listener that `event` happened. Call inside the transaction of the change."""
    assert event in EVENTS, event
    for listener in edge.hooks.event_listeners:
        listener(edge, event, data)
