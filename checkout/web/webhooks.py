"""Paystack's webhooks: signature (and optionally source address) checked on the raw body, then
handed to the group commit; the answer waits for the commit that holds the event.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import BadRequest
from checkout.payments import errors, events
from checkout.payments.group_commit import group_commit
from checkout.payments.paystack import ip_allowed, signature_ok
from checkout.web.base import client_ip, edge_of

log = structlog.get_logger("checkout.web.webhooks")


def webhook_counter(edge: Any) -> Any:
    """`digitaldock_payment_events_total{outcome}` on the edge's own registry (created once)."""
    from prometheus_client import Counter

    m = edge.metrics
    if not hasattr(m, "payment_events"):
        m.payment_events = Counter("digitaldock_payment_events", "Paystack webhooks received, by outcome",
                                   ("outcome",), registry=m.registry)
    return m.payment_events


async def paystack_webhook(request: Request) -> Response:
    edge = edge_of(request)
    raw = await request.body()
    counter = webhook_counter(edge)
    if edge.settings.PAYSTACK_CHECK_SOURCE_IP and not ip_allowed(client_ip(request)):
        log.warning("webhook_wrong_source", ip=client_ip(request))
        events.record_rejected(edge, raw, "wrong_source")
        counter.labels("wrong_source").inc()
        return JSONResponse({"code": "forbidden_source", "message": "Not a Paystack address."}, status_code=403)
    if not signature_ok(edge.settings.PAYSTACK_SECRET_KEY.reveal(), raw, request.headers.get("x-paystack-signature")):
        log.warning("webhook_bad_signature", ip=client_ip(request), size=len(raw))
        events.record_rejected(edge, raw, "bad_signature")
        counter.labels("bad_signature").inc()
        return JSONResponse({"code": "invalid_signature", "message": "The signature does not match."}, status_code=401)
    try:
        outcome = await group_commit(edge).receive(raw)
    except errors.RetryLater as exc:
        counter.labels("retry_later").inc()
        return JSONResponse({"code": "retry_later", "message": str(exc)}, status_code=409)
    counter.labels(outcome).inc()
    if outcome == "malformed":
        raise BadRequest("The event is not valid JSON with event and data.", code="malformed_event")
    return JSONResponse({"status": "ok", "outcome": outcome})


ROUTES = [
    Route("/webhooks/paystack", paystack_webhook, methods=["POST"]),
]
