"""The public API's webhook endpoints (issue #21): register an endpoint for events, see its
delivery log with each answer, redeliver, send a test event, rotate its secret. The library is
`checkout.integrations.webhooks`; here are only the operations."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool

from checkout.core.errors import ValidationFailed
from checkout.core.signals import EVENTS
from checkout.integrations import webhooks
from checkout.web.api_registry import INTEGER, NULL_STRING, STRING, Call, Operation, Param, list_of, obj

NULL_INT = {"type": ["integer", "null"]}
SUBSCRIBABLE = [e for e in EVENTS if e != "ping"]
ENDPOINT_ID = Param("endpoint_id", "path", {"type": "integer", "minimum": 1})
DELIVERY_ID = Param("delivery_id", "path", {"type": "integer", "minimum": 1})
ROLES = ("seller", "admin")


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, dict[str, Any]] = {
    "WebhookEndpoint": obj(["id", "url", "description", "events", "status", "disabled_reason", "created_at",
                            "secret_rotating_until"],
                           id=INTEGER, url=STRING, description=STRING,
                           events={"type": "array", "items": {"enum": SUBSCRIBABLE}},
                           status={"enum": ["active", "disabled"]}, disabled_reason=NULL_STRING, created_at=STRING,
                           secret_rotating_until=NULL_STRING),
    "WebhookDelivery": obj(["id", "endpoint_id", "event", "event_id", "status", "attempts", "next_attempt_at",
                            "response_status", "response_body", "error", "duration_ms", "created_at", "delivered_at"],
                           id=INTEGER, endpoint_id=INTEGER, event=STRING, event_id=STRING,
                           status={"enum": list(webhooks.DELIVERY_STATES)}, attempts=INTEGER,
                           next_attempt_at=NULL_STRING, response_status=NULL_INT, response_body=NULL_STRING,
                           error=NULL_STRING, duration_ms=NULL_INT, created_at=STRING, delivered_at=NULL_STRING,
                           payload={"type": "object"}),
}
WITH_SECRET = {"allOf": [ref("WebhookEndpoint"), obj(["secret"], secret=STRING)]}
URL = {"type": "string", "format": "uri", "maxLength": 2000}
EVENTS_SCHEMA = {"type": "array", "minItems": 1, "items": {"enum": SUBSCRIBABLE}}


async def list_endpoints(call: Call) -> Any:
    return {"data": webhooks.of_user(call.edge, call.user.id)}


async def create_endpoint(call: Call) -> Any:
    # the URL's host is resolved (SSRF check): off the event loop
    found, secret = await run_in_threadpool(webhooks.create, call.edge, call.user, call.body.get("url"),
                                            call.body.get("events"), call.body.get("description"))
    return {**found, "secret": secret}


async def get_endpoint(call: Call) -> Any:
    return webhooks.get(call.edge, call.user.id, call.path_id("endpoint_id"))


async def update_endpoint(call: Call) -> Any:
    endpoint_id = call.path_id("endpoint_id")
    webhooks.get(call.edge, call.user.id, endpoint_id)  # another account's endpoint: 404 before any field check
    changes = {k: call.body[k] for k in ("url", "events", "description", "status") if k in call.body}
    unknown = sorted(set(call.body) - {"url", "events", "description", "status"})
    if unknown:
        raise ValidationFailed(fields={unknown[0][:40]: "is not a field of an endpoint"})
    return await run_in_threadpool(webhooks.update, call.edge, call.user.id, endpoint_id, changes)


async def delete_endpoint(call: Call) -> Any:
    webhooks.delete(call.edge, call.user.id, call.path_id("endpoint_id"))
    return {"deleted": True}


async def rotate_endpoint_secret(call: Call) -> Any:
    found, secret = webhooks.rotate_secret(call.edge, call.user.id, call.path_id("endpoint_id"))
    return {**found, "secret": secret}


async def send_test_event(call: Call) -> Any:
    return 202, webhooks.send_test(call.edge, call.user.id, call.path_id("endpoint_id"))


async def list_deliveries(call: Call) -> Any:
    return webhooks.deliveries_page(call.edge, call.user.id, call.path_id("endpoint_id"), call.query.get("cursor"),
                                    call.limit(), call.query.get("status")).as_json()


async def get_delivery(call: Call) -> Any:
    return webhooks.delivery(call.edge, call.user.id, call.path_id("endpoint_id"), call.path_id("delivery_id"))


async def redeliver(call: Call) -> Any:
    return 202, webhooks.redeliver(call.edge, call.user.id, call.path_id("endpoint_id"), call.path_id("delivery_id"))


BASE = "/api/v1/webhooks"
OPERATIONS: list[Operation] = [
    Operation("GET", BASE, list_endpoints, "Your webhook endpoints", "read:webhooks",
              obj(["data"], data={"type": "array", "items": ref("WebhookEndpoint")}), "Webhooks", roles=ROLES),
    Operation("POST", BASE, create_endpoint, "Register an endpoint for events: its signing secret is shown once",
              "write:webhooks", WITH_SECRET, "Webhooks", roles=ROLES, status=201, creates=True,
              body=obj(["url", "events"], url=URL, events=EVENTS_SCHEMA,
                       description={"type": "string", "maxLength": 200}),
              description="The URL must be a public http(s) address: private, loopback and link-local addresses "
                          "are refused. Each delivery is a POST signed with HMAC-SHA256 (see the guide in docs/api.md)."),
    Operation("GET", BASE + "/{endpoint_id}", get_endpoint, "One of your endpoints", "read:webhooks",
              ref("WebhookEndpoint"), "Webhooks", roles=ROLES, params=(ENDPOINT_ID,)),
    Operation("PATCH", BASE + "/{endpoint_id}", update_endpoint,
              "Change an endpoint's URL, events or description, or enable (disable) it", "write:webhooks",
              ref("WebhookEndpoint"), "Webhooks", roles=ROLES, params=(ENDPOINT_ID,),
              body={"type": "object", "properties": {"url": URL, "events": EVENTS_SCHEMA,
                                                     "description": {"type": "string", "maxLength": 200},
                                                     "status": {"enum": ["active", "disabled"]}},
                    "additionalProperties": False}),
    Operation("DELETE", BASE + "/{endpoint_id}", delete_endpoint, "Delete an endpoint and its delivery log",
              "write:webhooks", obj(["deleted"], deleted={"type": "boolean"}), "Webhooks", roles=ROLES,
              params=(ENDPOINT_ID,)),
    Operation("POST", BASE + "/{endpoint_id}/rotate-secret", rotate_endpoint_secret,
              "A new signing secret (shown once); the old one also signs for WEBHOOK_SECRET_OVERLAP_HOURS",
              "write:webhooks", WITH_SECRET, "Webhooks", roles=ROLES, params=(ENDPOINT_ID,)),
    Operation("POST", BASE + "/{endpoint_id}/test", send_test_event, "Send a test event (`ping`) to the endpoint",
              "write:webhooks", ref("WebhookDelivery"), "Webhooks", roles=ROLES, params=(ENDPOINT_ID,), status=202),
    Operation("GET", BASE + "/{endpoint_id}/deliveries", list_deliveries,
              "The endpoint's delivery log, newest first, with each answer's status and first bytes",
              "read:webhooks", list_of(ref("WebhookDelivery")), "Webhooks", roles=ROLES,
              params=(ENDPOINT_ID, Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 100}),
                      Param("cursor"), Param("status", schema={"enum": list(webhooks.DELIVERY_STATES)}))),
    Operation("GET", BASE + "/{endpoint_id}/deliveries/{delivery_id}", get_delivery,
              "One delivery, with the exact body that was sent", "read:webhooks", ref("WebhookDelivery"), "Webhooks",
              roles=ROLES, params=(ENDPOINT_ID, DELIVERY_ID)),
    Operation("POST", BASE + "/{endpoint_id}/deliveries/{delivery_id}/redeliver", redeliver,
              "Send the same event (same id and body) again", "write:webhooks", ref("WebhookDelivery"), "Webhooks",
              roles=ROLES, params=(ENDPOINT_ID, DELIVERY_ID), status=202),
]
