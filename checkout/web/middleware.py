"""The edge's ASGI middleware, outermost first:

- `RequestContextMiddleware`: request id (X-Request-ID), structlog context, security headers,
  access log line, metrics, and the last-resort error page (no stack trace reaches a user);
  it notes X-Forwarded-For sent by a peer whose header is not believed (/readyz warns).
- `StorefrontCorsMiddleware`: CORS (with credentials, for SITE_URL) on the few JSON endpoints
  the static storefront's script reads, and on nothing else.
- `BodySizeLimitMiddleware`: 413 for a body over its route's cap (FORM_MAX_BODY_BYTES for
  browser forms, MAX_BODY_BYTES for the JSON API and webhooks), from Content-Length before a
  byte is read, or by counting a streamed body; the answer closes the connection.
- `CsrfMiddleware`: every state-changing browser request (not /api/, which takes bearer
  tokens only) must carry the CSRF token, as a form field or an X-CSRF-Token header; signed
  in, the token is bound to the session (`csrf_expected`).
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import structlog
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkout.core.context import Edge
from checkout.core.errors import CsrfFailed, EdgeError, InternalError, PayloadTooLarge
from checkout.ops.readiness import note_forwarded

log = structlog.get_logger("checkout.http")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
CSRF_COOKIE = "dd_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def csrf_expected(edge: "Edge", cookies: dict[str, str]) -> tuple[str, ...]:
    """The CSRF tokens a state-changing request from this browser may carry.

    Signed in (a validly signed session cookie): tokens derived from the session id, nothing
    else. A plain double-submit cookie is not enough there: any host of the site's domain can
    set a cookie for the whole domain, so a script on the storefront (digitaldock.example) could
    plant a CSRF cookie of its own making next to the edge's (checkout.digitaldock.example),
    with the matching token, and post as the signed-in user. Signed out (sign-in, registration,
    password reset): the signed CSRF cookie's token.
    """
    from checkout.web.auth import SESSION_COOKIE

    session = edge.tokens.unsign_cookie("session", cookies.get(SESSION_COOKIE))
    if session:
        return edge.tokens.session_csrf(session)
    token = edge.tokens.unsign_cookie("csrf", cookies.get(CSRF_COOKIE))
    return (token,) if token else ()


def csrf_matches(expected: tuple[str, ...], given: str | None) -> bool:
    return bool(given) and any(hmac.compare_digest(e.encode(), given.encode()) for e in expected)  # type: ignore[union-attr]


def security_headers(edge: "Edge", https: bool) -> list[tuple[bytes, bytes]]:
    site, own = edge.settings.SITE_URL, edge.settings.CHECKOUT_URL
    # checkout forms redirect to Paystack's pay page (the sandbox's in development)
    pay = " ".join(sorted({"https://checkout.paystack.com", _origin(edge.settings.PAYSTACK_BASE_URL)}))
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: "
           f"{site}; font-src 'self'; connect-src 'self' {own}; form-action 'self' {own} {site} {pay}; "
           "frame-ancestors 'none'; "
           "base-uri 'self'; object-src 'none'")
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains; preload"))
    return headers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, edge: "Edge", route_name: Callable[[Scope], str],
                 error_response: Callable[[Request, EdgeError], Any]):
        self.app = app
        self.edge = edge
        self.route_name = route_name
        self.error_response = error_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded is not None:
            client = scope.get("client")
            note_forwarded(self.edge, client[0] if client else None, forwarded.decode("latin-1"))
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        https = scope.get("scheme") == "https"
        extra = [(b"x-request-id", request_id.encode()), *security_headers(self.edge, https)]
        path = scope.get("path", "")
        if not path.startswith("/theme/"):
            extra.append((b"cache-control", b"no-store"))
        status = {"code": 500, "started": False}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in names]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - the one place unexpected errors become a page
            if not isinstance(exc, EdgeError):
                log.exception("unhandled_error", method=scope["method"], path=path)
                exc = InternalError()
            if status["started"]:
                raise
            response = self.error_response(Request(scope), exc)
            await response(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = self.route_name(scope)
            m = self.edge.metrics
            m.requests.labels(route, scope["method"], str(status["code"])).inc()
            m.latency.labels(route).observe(elapsed)
            if path not in ("/healthz", "/metrics") and not path.startswith("/theme/"):
                log.info("request", method=scope["method"], path=path, route=route, status=status["code"],
                         duration_ms=round(elapsed * 1000, 1))


class StorefrontCorsMiddleware:
    """Starlette's CORSMiddleware for `paths` only; every other route sends no CORS header at
    all, and a preflight for it gets none either.

    A credentialed CORS grant lets any script running on SITE_URL read the answer with the
    buyer's cookie. Granted on every route, one injected script on the static site (a product
    description that slipped through, a compromised CDN object) could read /account, /orders or
    /library of whoever visits. The storefront needs it on `STOREFRONT_JSON` alone, read-only.
    """

    def __init__(self, app: ASGIApp, origin: str, paths: tuple[str, ...]):
        self.app = app
        self.paths = frozenset(paths)
        self.cors = CORSMiddleware(app, allow_origins=[origin], allow_methods=["GET", "HEAD"],
                                   allow_credentials=True, expose_headers=["X-Request-ID"], max_age=600)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """413 for a body over its route's cap. Browser routes take small forms (`form_max_bytes`,
    FORM_MAX_BODY_BYTES) whatever Content-Type they claim; routes under `json_prefixes` (the
    API, webhooks) take up to `max_bytes`; `overrides` gives single paths their own cap."""

    def __init__(self, app: ASGIApp, max_bytes: int, form_max_bytes: int | None = None,
                 json_prefixes: tuple[str, ...] = ("/api/", "/webhooks/"), overrides: dict[str, int] | None = None):
        caps = [max_bytes, form_max_bytes or max_bytes, *(overrides or {}).values()]
        if any(c <= 0 for c in caps):
            raise ValueError("body size caps must be positive")
        self.app = app
        self.max_bytes = max_bytes
        self.form_max_bytes = form_max_bytes or max_bytes
        self.json_prefixes = json_prefixes
        self.overrides = overrides or {}

    def cap(self, path: str) -> int:
        if path in self.overrides:
            return self.overrides[path]
        return self.max_bytes if path.startswith(self.json_prefixes) else self.form_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(scope.get("path", ""))
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = cap + 1
            if declared > cap:
                raise PayloadTooLarge(_too_large(cap))
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise PayloadTooLarge(_too_large(cap))
            return message

        await self.app(scope, limited, send)


def _too_large(cap: int) -> str:
    size = f"{cap // 1024:,} KB" if cap < 1024 * 1024 else f"{cap / (1024 * 1024):g} MB"
    return f"The request body is too large: this address takes at most {size}."


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, edge: "Edge", exempt_prefixes: tuple[str, ...] = ("/api/",)):
        self.app = app
        self.edge = edge
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS
                or scope["path"].startswith(self.exempt)):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        request = Request(scope)
        expected = csrf_expected(self.edge, request.cookies)
        given = request.headers.get(CSRF_HEADER)
        ctype = request.headers.get("content-type", "")
        if given is None and ctype.startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD)
            given = values[0] if values else None
        elif given is None and ctype.startswith("multipart/form-data"):
            form_request = Request(scope, receive=_once(body))
            async with form_request.form() as form:
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
        if not csrf_matches(expected, given):
            log.warning("csrf_failed", path=scope["path"], had_cookie=bool(expected), had_token=bool(given))
            raise CsrfFailed()
        await self.app(scope, replay, send)


def _once(body: bytes) -> Receive:
    done = False

    async def receive() -> Message:
        nonlocal done
        if done:
            return {"type": "http.disconnect"}
        done = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
