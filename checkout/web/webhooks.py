"""Paystack's webhooks: signature (and optionally source address) checked on the raw body, then
handed to the group commit; the answer waits for the commit that holds the event.
"""

from __future__ import annotations

import datetime as dt
import json
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


def _refuse(request: Request, raw: bytes, outcome: str) -> None:
    """Count and note a refused post; an address that keeps sending them is slowed down (429)
    before anything more is written for it."""
    edge, ip = edge_of(request), client_ip(request)
    edge.metrics.payment_events.labels(outcome).inc()
    edge.hit("WEBHOOK_REFUSED_LIMIT", "ip", ip)
    log.warning(f"webhook_{outcome}", ip=ip, size=len(raw))
    events.record_rejected(edge, raw, outcome, ip)


def _observe_lag(edge: Any, raw: bytes) -> None:
    """How long after Paystack took the money its webhook was applied here (`paid_at` of the
    charge); an event without a readable time is not observed."""
    try:
        data = json.loads(raw).get("data") or {}
        paid = data.get("paid_at") or data.get("paidAt")
        when = dt.datetime.fromisoformat(str(paid).replace("Z", "+00:00")).timestamp()
    except (ValueError, TypeError, AttributeError):
        return
    edge.metrics.webhook_lag.observe(max(0.0, edge.clock() - when))


async def paystack_webhook(request: Request) -> Response:
    edge = edge_of(request)
    raw = await request.body()
    counter = edge.metrics.payment_events
    if edge.settings.PAYSTACK_CHECK_SOURCE_IP and not ip_allowed(client_ip(request)):
        _refuse(request, raw, "wrong_source")
        return JSONResponse({"code": "forbidden_source", "message": "Not a Paystack address."}, status_code=403)
    if not signature_ok(edge.settings.PAYSTACK_SECRET_KEY.reveal(), raw, request.headers.get("x-paystack-signature")):
        _refuse(request, raw, "bad_signature")
        return JSONResponse({"code": "invalid_signature", "message": "The signature does not match."}, status_code=401)
    try:
        outcome = await group_commit(edge).receive(raw)
    except errors.RetryLater as exc:
        counter.labels("retry_later").inc()
        return JSONResponse({"code": "retry_later", "message": str(exc)}, status_code=409)
    counter.labels(outcome).inc()
    if outcome == "paid":
        _observe_lag(edge, raw)
    if outcome == "malformed":
        raise BadRequest("The event is not valid JSON with event and data.", code="malformed_event")
    return JSONResponse({"status": "ok", "outcome": outcome})


ROUTES = [
    Route("/webhooks/paystack", paystack_webhook, methods=["POST"]),
]
