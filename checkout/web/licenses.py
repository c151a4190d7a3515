"""The license API sellers' software calls (issue #18), after Gumroad's `/v2/licenses/verify`
and Lemon Squeezy's activate/validate/deactivate:

- `POST /api/v1/licenses/verify`     {product, license_key}
- `POST /api/v1/licenses/activate`   {product, license_key, instance_name}
- `POST /api/v1/licenses/deactivate` {product, license_key, instance_id}

Each takes a JSON object or an ordinary form body (software often posts forms), needs no
account (the key is the credential), and is limited per key and per client IP
(`LICENSE_KEY_LIMIT`, `LICENSE_IP_LIMIT`). The key never reaches a log line or a limiter's
name: the limit counts a hash of it. Answers: 200 with the key's state (`valid`, `refunded`,
`disabled`, `activations`, `activation_limit`, `limit_reached`), 404 `license_not_found`,
409 `license_refunded` / `license_disabled` / `activation_limit_reached`, 422 naming the
field, 429 with Retry-After.

The seller's page `/seller/licenses` lists the keys of their products with each activation,
and disables, enables or resets a key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import BadRequest
from checkout.payments import licenses
from checkout.web import flash, params
from checkout.web.auth import requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import read_form, render

MAX_BODY = 16 * 1024


async def _body(request: Request) -> dict[str, Any]:
    """The call's fields from a JSON object or a form body; anything else is a clear 400."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("The body is too large for a license call.", code="body_too_large")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
        if not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object.", code="invalid_json")
        return data
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await read_form(request)
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raise BadRequest("Send JSON (application/json) or a form (application/x-www-form-urlencoded).",
                     code="unsupported_media_type")


def _limit(request: Request, data: dict[str, Any]) -> None:
    edge = edge_of(request)
    edge.hit("LICENSE_IP_LIMIT", "ip", client_ip(request))
    key = licenses.normalize(data.get("license_key")) or str(data.get("license_key"))[:100]
    edge.hit("LICENSE_KEY_LIMIT", "key", hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:32])


async def verify(request: Request) -> Response:
    data = await _body(request)
    _limit(request, data)
    return JSONResponse(licenses.verify(edge_of(request), data.get("product"), data.get("license_key")))


async def activate(request: Request) -> Response:
    data = await _body(request)
    _limit(request, data)
    return JSONResponse(licenses.activate(edge_of(request), data.get("product"), data.get("license_key"),
                                          data.get("instance_name")))


async def deactivate(request: Request) -> Response:
    data = await _body(request)
    _limit(request, data)
    return JSONResponse(licenses.deactivate(edge_of(request), data.get("product"), data.get("license_key"),
                                            data.get("instance_id")))


def _sellers(request: Request) -> list[str]:
    edge = edge_of(request)
    return [r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ?",
                                          (request.user["id"],))]


@requires("seller")
async def seller_licenses(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "POST":
        form = await read_form(request)
        license_id = params.form_id(form, "license", "Choose a license key from the list.")
        done = licenses.seller_action(edge, request.user["id"], _sellers(request), license_id,
                                      str(form.get("action", "")))
        text = {"disable": "The key is disabled.", "enable": "The key works again.",
                "reset": "Every activation of the key was cleared."}[done]
        return flash.redirect(request, "/seller/licenses", text)
    return render(request, "edge/seller_licenses.html", keys=licenses.of_sellers(edge, _sellers(request)))


ROUTES = [
    Route("/api/v1/licenses/verify", verify, methods=["POST"]),
    Route("/api/v1/licenses/activate", activate, methods=["POST"]),
    Route("/api/v1/licenses/deactivate", deactivate, methods=["POST"]),
    Route("/seller/licenses", seller_licenses, methods=["GET", "POST"]),
]
