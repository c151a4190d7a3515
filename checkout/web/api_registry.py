"""One registry of API operations: routes and the OpenAPI document come from the same list.

Each resource module of the public API (`/api/v1/`) declares its operations as a list of
`Operation`s named `OPERATIONS` (like `ROUTES` for pages); `checkout/web/app.py` joins them in
`API_OPERATIONS`. From that one list come

- the Starlette routes (`routes()`), each handler wrapped once with what every operation needs:
  who is asking and with which scope (`checkout.web.auth`), the JSON body, `ETag` and
  `If-None-Match` on reads, `Idempotency-Key` on POSTs that create something, and one error
  shape (`{"code", "message", "fields"?}`, mapped in `checkout.web.errors`);
- the OpenAPI 3.1 document (`openapi_paths()`), served at `/api/openapi.json` with the older
  first-party endpoints, browsable at `/api/docs`, and exported as a Postman collection.

A handler is `async def handler(call: Call) -> Any` and returns the JSON body (or a `(status,
body)` pair); SQL stays in the package modules it calls.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core import idempotency
from checkout.core.context import Edge
from checkout.core.errors import BadRequest, ValidationFailed
from checkout.web import params
from checkout.web.auth import EdgeUser, authorize, require_scope
from checkout.web.base import client_ip, edge_of

MAX_LIMIT = 100
IDEMPOTENCY_HEADER = "idempotency-key"

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
MONEY_SCHEMA = {"$ref": "#/components/schemas/Money"}
STRING = {"type": "string"}
NULL_STRING = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}


@dataclass(frozen=True)
class Param:
    name: str
    where: str = "query"  # "query", "path" or "header"
    schema: dict[str, Any] = field(default_factory=lambda: dict(STRING))
    description: str = ""
    required: bool = False

    def openapi(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "in": self.where, "required": self.required or self.where == "path",
                               "schema": self.schema}
        if self.description:
            out["description"] = self.description
        return out


def list_params(states: tuple[str, ...] = (), extra: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    """The query parameters of every list: cursor pagination, a time window and a state."""
    found = [Param("limit", schema={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                   description=f"Items per page (default 20, at most {MAX_LIMIT})."),
             Param("cursor", description="`next_cursor` of the previous page."),
             Param("created_after", schema={"type": "string", "format": "date-time"},
                   description="Only items from this date (2026-11-30) or UTC date-time on."),
             Param("created_before", schema={"type": "string", "format": "date-time"},
                   description="Only items before this date-time (or before the end of this date).")]
    if states:
        found.append(Param("status", schema={"enum": list(states)}, description="Only items in this state."))
    return (*found, *extra)


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["data", "next_cursor", "has_more"],
            "properties": {"data": {"type": "array", "items": item}, "next_cursor": NULL_STRING,
                           "has_more": {"type": "boolean"}}}


def obj(required: tuple[str, ...] | list[str], **props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": props}


class Call:
    """What a handler gets: the request, the edge, the account, the parsed body and query."""

    def __init__(self, request: Request, user: EdgeUser | None, body: dict[str, Any] | None):
        self.request = request
        self.edge: Edge = edge_of(request)
        self._user = user
        self.body = body or {}
        self.query = request.query_params
        self.ip = client_ip(request)

    @property
    def user(self) -> EdgeUser:
        assert self._user is not None, "an operation without a scope has no user"
        return self._user

    def limit(self) -> int:
        return params.bounded_int(self.query.get("limit", "20"), "limit", 1, MAX_LIMIT)

    def path_id(self, name: str) -> int:
        return params.path_id(self.request, name)

    def text(self, key: str, required: bool = True, max_len: int = 2000) -> str:
        value = self.body.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise ValidationFailed(fields={key: "must be a non-empty string" if required else "must be a string"})
        if len(value) > max_len:
            raise ValidationFailed(fields={key: f"must be at most {max_len} characters"})
        return value


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    scope: str | None  # None: anyone may call it (no token needed)
    response: dict[str, Any]
    tag: str
    roles: tuple[str, ...] = ()  # roles allowed, on top of the scope; () = any signed-in account
    params: tuple[Param, ...] = ()
    body: dict[str, Any] | None = None
    status: int = 200
    creates: bool = False  # a POST that creates something: Idempotency-Key applies
    description: str = ""
    also: tuple[tuple[int, str, dict[str, Any]], ...] = ()  # other successful answers: (status, what, schema)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    def openapi(self) -> dict[str, Any]:
        found = [p.openapi() for p in self.params]
        if self.creates:
            found.append(Param("Idempotency-Key", "header", {"type": "string", "minLength": 1, "maxLength": 255},
                               "Send the same key to retry safely: the same key gets the same answer.").openapi())
        desc = self.description
        if self.scope:
            desc = (desc + "\n\n" if desc else "") + f"Needs a token with the scope `{self.scope}`" + (
                f" (accounts: {', '.join(self.roles)})." if self.roles else ".")
        op: dict[str, Any] = {"operationId": self.operation_id, "summary": self.summary, "tags": [self.tag],
                              "responses": {str(self.status): {"description": "OK", "content": {
                                  "application/json": {"schema": self.response}}},
                                  "default": {"description": "An error", "content": {
                                      "application/json": {"schema": ERROR_SCHEMA}}}}}
        for status, what, schema in self.also:
            op["responses"][str(status)] = {"description": what, "content": {"application/json": {"schema": schema}}}
        if desc:
            op["description"] = desc
        if self.method == "GET":
            op["responses"]["304"] = {"description": "Not modified (the `If-None-Match` ETag still matches)"}
            found.append(Param("If-None-Match", "header", description="The `ETag` of an earlier answer.").openapi())
        if found:
            op["parameters"] = found
        if self.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": self.body}}}
        if self.scope:
            op["security"] = [{"bearer": []}]
            op["x-scope"] = self.scope
        return op


async def json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise BadRequest("Send a JSON body with Content-Type: application/json.", code="unsupported_media_type")
    try:
        data = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.", code="invalid_json")
    return data


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise ValidationFailed(fields={"Idempotency-Key": "must be 1 to 255 printable ASCII characters"})
    return key


def _etag(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def wrap(op: Operation) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        user = authorize(request, op.roles, forbidden="This operation is not for your kind of account.") \
            if op.scope else None
        if op.scope:
            require_scope(request, op.scope)
        body = await json_body(request) if op.body is not None else None
        edge = edge_of(request)
        key = _idempotency_key(request) if op.creates and user is not None else None
        fingerprint = hashlib.sha256(_dump(body)).hexdigest() if key else ""
        if key:
            replayed = idempotency.replay(edge, user.id, key, request.method, request.url.path, fingerprint)  # type: ignore[union-attr]
            if replayed is not None:
                return Response(replayed[1], status_code=replayed[0], media_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        result = await op.handler(Call(request, user, body))
        status, data = result if isinstance(result, tuple) else (op.status, result)
        raw = _dump(data)
        if key and status < 500:
            idempotency.remember(edge, user.id, key, request.method, request.url.path, fingerprint, status,  # type: ignore[union-attr]
                                 raw.decode())
        headers = {}
        if request.method == "GET":
            tag = _etag(raw)
            headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
            if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
                return Response(status_code=304, headers=headers)
        return Response(raw, status_code=status, media_type="application/json", headers=headers)

    endpoint.__name__ = op.operation_id
    return endpoint


def routes(operations: list[Operation]) -> list[Route]:
    """One Starlette route per path, its methods dispatched to their operations."""
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        methods = by_path.setdefault(op.path, {})
        assert op.method not in methods, f"two operations for {op.method} {op.path}"
        methods[op.method] = op
    out = []
    for path, methods in by_path.items():
        handlers = {m: wrap(op) for m, op in methods.items()}

        async def dispatch(request: Request, handlers: dict[str, Any] = handlers) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            return await handlers[method](request)

        allowed = sorted({*methods, *(["HEAD"] if "GET" in methods else [])})
        out.append(Route(path, dispatch, methods=allowed, name=f"api:{path}"))
    return out


def openapi_paths(operations: list[Operation]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = op.openapi()
    return paths
