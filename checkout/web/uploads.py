"""Seller uploads, the HTTP half: `POST /seller/products`, streamed (the checks and the
submission are `checkout.delivery.uploads`).

Before a byte of the body is read: a declared Content-Length over the whole-upload cap
(`max_request_bytes`: UPLOAD_MAX_REQUEST_BYTES) is refused with 413, then the session and the
seller role are checked, a seller already streaming UPLOAD_MAX_CONCURRENT_PER_SELLER uploads
gets 429, and in production an edge with no clamd answering refuses with 503 and alerts (fail
closed). Any answer given before the whole body arrived closes the connection, so a refused
upload is not read on and thrown away.

The body is then parsed as it arrives (python-multipart's push parser) and never held in
memory: each file part is written in chunks to a spool file under UPLOAD_SPOOL_DIR while its
SHA-256 and size are computed. A part over its limit (UPLOAD_MAX_FILE_BYTES for product files,
UPLOAD_MAX_IMAGE_BYTES for images) stops the upload at the chunk that crossed it with 413, the
whole body is counted against the cap too (a chunked body declares no length), and a body that
sends nothing for UPLOAD_IDLE_SECONDS ends with 408; every spool file of the request is deleted
on any refusal. File names are taken as sent (a Windows path is refused, not trimmed) and
checked with the schema's `check_file_name`. Then each file is checked by magic bytes (covers
and gallery images raster only) and scanned by clamd through its INSTREAM client; images are
opened with Pillow and re-encoded, which drops their metadata. A refused file is moved under
`quarantine/uploads/` in storage, recorded in `quarantined_uploads`, the seller is told which
field, which file and why, and the admins get an email. Accepted files move to storage under
their content-hash key and the submission joins the approval queue.

The global body-size limit and the CSRF middleware both read whole bodies, so this endpoint
is served by `UploadMiddleware`, which sits just inside the request-context middleware and
answers this one route itself: it checks the CSRF token (the `X-CSRF-Token` header, or the
`csrf_token` field, which must come before any file) before it writes a single file byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import structlog
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from checkout.core.context import Edge
from checkout.core.errors import (
    BadRequest,
    CsrfFailed,
    EdgeError,
    PayloadTooLarge,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    ValidationFailed,
)
from checkout.delivery.errors import ScannerUnavailable, UploadRefused
from checkout.delivery.uploads import (
    FILE_FIELDS,
    MAX_FIELD_BYTES,
    TEXT_FIELDS,
    Part,
    Upload,
    check_form,
    check_part,
    check_preview,
    clamd_for,
    image_path,
    max_request_bytes,
    printable,
    quarantine,
    save_submission,
    say,
    size_limit,
    spool_dir,
    store_parts,
    too_large,
    upload_name,
    with_kept,
)
from checkout.ops.alerts import raise_alert
from checkout.web import flash
from checkout.web.auth import authorize
from checkout.web.base import edge_of
from checkout.web.errors import error_response
from checkout.web.middleware import CSRF_FIELD, CSRF_HEADER, csrf_expected, csrf_matches
from checkout.web.seller import form_page
from digitaldock import schema
from digitaldock.storage import StorageError

log = structlog.get_logger("checkout.uploads")


UPLOAD_PATH = "/seller/products"
SCANNER_ALERT = "upload_scanner"  # the kind `delivery.uploads.check_scanner` clears once clamd answers


class UploadSlots:
    """Uploads streaming now, per seller account. In memory: the edge is one process by design,
    and a restart ends every upload anyway."""

    def __init__(self, per_seller: int):
        self.per_seller = per_seller
        self.active: dict[int, int] = {}

    @contextlib.contextmanager
    def take(self, user_id: int) -> Iterator[None]:
        busy = self.active.get(user_id, 0)
        if busy >= self.per_seller:
            raise RateLimited(f"You already have {busy} uploads in progress. Wait for one to finish, then try again.",
                              code="uploads_in_progress", headers={"Retry-After": "30"})
        self.active[user_id] = busy + 1
        try:
            yield
        finally:
            self.active[user_id] -= 1
            if not self.active[user_id]:
                del self.active[user_id]


class Body:
    """The request body as it arrives, guarded: at most `limit` bytes in all (a chunked body has
    no Content-Length to refuse up front), and no wait longer than `idle` seconds for the next
    chunk (a stalled or trickling client must not hold a spool file and a connection forever)."""

    def __init__(self, receive: Receive, limit: int, idle: float):
        self.receive, self.limit, self.idle = receive, limit, idle
        self.seen = 0
        self.complete = False  # the whole body was read: the connection may be kept alive

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.complete:
            try:
                message = await asyncio.wait_for(self.receive(), self.idle)
            except TimeoutError:
                log.warning("upload_idle_timeout", received=self.seen, idle_seconds=self.idle)
                raise RequestTimeout(f"The upload stopped: nothing arrived for {self.idle:g} seconds. "
                                     "Please check your connection and try again.") from None
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            self.seen += len(chunk)
            if self.seen > self.limit:
                raise PayloadTooLarge(whole_request_too_large(self.limit))
            self.complete = not message.get("more_body", False)
            if chunk:
                yield chunk


def whole_request_too_large(limit: int, declared: int | None = None) -> str:
    size = f" is {declared / (1024 * 1024):,.0f} MB; it" if declared is not None else ""
    return f"This upload{size} may be at most {limit // (1024 * 1024):,} MB in all: send fewer or smaller files."


_PARAM = re.compile(rb';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def disposition(value: bytes) -> tuple[str, bytes | None]:
    """(field name, raw file name or None) of a part's Content-Disposition. Unlike
    python-multipart's `parse_options_header`, which keeps only what follows the last backslash
    of a Windows path, this keeps the name as sent, so a path is refused rather than trimmed."""
    params: dict[bytes, bytes] = {}
    for m in _PARAM.finditer(value):
        key, raw = m.group(1).lower(), m.group(2).strip()
        if b"*" in key:  # RFC 7578 §4.2 forbids the filename*= form in multipart/form-data
            continue
        if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
            raw = raw[1:-1].replace(b"\\\\", b"\\").replace(b'\\"', b'"')
        params.setdefault(key, raw)
    return params.get(b"name", b"").decode("utf-8", "replace"), params.get(b"filename")


async def parse_stream(edge: "Edge", request: Request, csrf_tokens: tuple[str, ...], body: Body) -> Upload:
    """Parse the multipart body into text fields and spooled files; see the module docstring."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("Send the product form as multipart/form-data.")
    s = edge.settings
    up = Upload()
    header_csrf = request.headers.get(CSRF_HEADER)
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "part": None, "text": None,
                             "fh": None, "hash": None, "csrf_ok": _csrf_ok(csrf_tokens, header_csrf),
                             "error": None}
    folder = spool_dir(edge)

    def fail(exc: EdgeError) -> None:
        if state["error"] is None:
            state["error"] = exc

    def on_part_begin() -> None:
        state["headers"], state["part"], state["text"] = {}, None, None

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        name, filename = disposition(state["headers"].get(b"content-disposition", b""))
        if filename is None:
            state["text"] = (name, bytearray())
            return
        if not state["csrf_ok"]:
            fail(CsrfFailed())
            return
        if name not in FILE_FIELDS or filename == b"":
            state["part"] = None  # an empty file input, or a field we do not take
            return
        try:
            fname = upload_name(name, filename)
        except ValidationFailed as exc:
            fail(exc)
            return
        kind = FILE_FIELDS[name]
        if name == "images" and sum(1 for p in up.parts if p.field == "images") >= s.UPLOAD_MAX_IMAGES:
            fail(ValidationFailed(say("images", f"at most {s.UPLOAD_MAX_IMAGES} images per product"),
                                  fields={"images": say("images", f"at most {s.UPLOAD_MAX_IMAGES} images per product")}))
            return
        if name == "sample" and any(p.field == "sample" for p in up.parts):
            fail(ValidationFailed(say("sample", "one preview only"), fields={"sample": say("sample", "one preview only")}))
            return
        if name == "cover" and any(p.field == "cover" for p in up.parts):
            fail(ValidationFailed(say("cover", "one cover image only"), fields={"cover": say("cover", "one cover image only")}))
            return
        if name == "files" and sum(1 for p in up.parts if p.field == "files") >= schema.MAX_FILES:
            fail(ValidationFailed(say("files", f"at most {schema.MAX_FILES} files per product"),
                                  fields={"files": say("files", f"at most {schema.MAX_FILES} files per product")}))
            return
        part = Part(name, fname, folder / f"{uuid.uuid4().hex}.part", kind=kind)
        up.parts.append(part)
        state["part"], state["hash"] = part, hashlib.sha256()
        state["fh"] = part.path.open("wb")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["error"] is not None:
            return
        if state["text"] is not None:
            buf = state["text"][1]
            buf += data[start:end]
            if len(buf) > MAX_FIELD_BYTES:
                field_name = state["text"][0]
                problem = say(field_name, "is too long") if field_name in TEXT_FIELDS else "A form field is too long."
                fail(PayloadTooLarge(problem, fields={field_name: problem} if field_name in TEXT_FIELDS else None))
            return
        part: Part | None = state["part"]
        if part is None:
            return
        chunk = data[start:end]
        part.size += len(chunk)
        limit = size_limit(s, part.kind)
        if part.size > limit:  # the part stops here: nothing more of it is written or read
            problem = too_large(part.field, part.name, limit)
            fail(PayloadTooLarge(problem, fields={part.field: problem}))
            return
        state["hash"].update(chunk)
        state["fh"].write(chunk)

    def on_part_end() -> None:
        if state["text"] is not None:
            name, buf = state["text"]
            value = buf.decode("utf-8", "replace")
            if name == CSRF_FIELD:
                state["csrf_ok"] = state["csrf_ok"] or _csrf_ok(csrf_tokens, value)
            elif name in TEXT_FIELDS:
                up.fields[name] = value
            state["text"] = None
            return
        if state["fh"] is not None:
            state["fh"].close()
            state["fh"] = None
            part = state["part"]
            if part is not None:
                part.sha256 = state["hash"].hexdigest()
        state["part"] = None

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished})
    try:
        async for chunk in body.chunks():
            parser.write(chunk)
            if state["error"] is not None:
                break
        if state["error"] is None:
            parser.finalize()
    except Exception as exc:  # noqa: BLE001 - a broken body is the client's problem, named plainly
        if not isinstance(exc, EdgeError):
            fail(BadRequest("The upload was interrupted or malformed. Please try again."))
        else:
            fail(exc)
    finally:
        if state["fh"] is not None:
            state["fh"].close()
    if state["error"] is None and not state["csrf_ok"]:
        fail(CsrfFailed())
    if state["error"] is not None:
        up.discard()
        raise state["error"]
    return up


def _csrf_ok(expected: tuple[str, ...], given: str | None) -> bool:
    return csrf_matches(expected, given)


async def scanner_unavailable(edge: "Edge", why: str) -> ScannerUnavailable:
    """Uploads fail closed without a virus scanner: the people who run the edge are alerted."""
    await run_in_threadpool(raise_alert, edge, SCANNER_ALERT, f"Seller uploads are refused: {why}.")
    return ScannerUnavailable()


async def handle(request: Request, slots: UploadSlots, body: Body) -> Response:
    """`POST /seller/products`: stream, check, store, and queue the submission for approval."""

    edge = edge_of(request)
    user = authorize(request, ("seller",), api=True, forbidden="Only seller accounts can upload products.",
                     forbidden_code="not_a_seller", unauthenticated="Please sign in as a seller to upload products.")
    with slots.take(user["id"]):
        # no scanner in production: refused before a byte of the body is read
        clamd = await run_in_threadpool(clamd_for, edge)
        if clamd is None and edge.settings.production:
            log.error("upload_without_scanner")
            raise await scanner_unavailable(edge, "no clamd answers (CLAMD_SOCKET, CLAMD_HOST, CLAMD_DEFAULT_SOCKET)")
        up = await parse_stream(edge, request, csrf_expected(edge, request.cookies), body)
        try:
            return await _accept(request, edge, user, up, clamd)
        finally:
            up.discard()


async def _accept(request: Request, edge: "Edge", user: Any, up: Upload, clamd: Any) -> Response:
    fields = {k: v.strip() if k != "description" else v for k, v in up.fields.items()}
    images = [{"role": "cover" if p.field == "cover" else "gallery", "name": p.name} for p in up.parts if p.kind == "image"]
    files = [{"name": p.name, **({"role": "preview"} if p.kind == "preview" else {})}
             for p in up.parts if p.kind in ("file", "preview")]
    # field checks first: nothing is scanned or stored for a form that cannot be accepted
    try:
        edit = check_form(edge, user, fields, files, images)
    except ValidationFailed as exc:
        exc.form = fields  # type: ignore[attr-defined] - the no-JS form shows the input again
        raise
    scan: dict[str, str] = {}
    for part in up.parts:
        try:
            reason = await run_in_threadpool(check_part, edge, part, clamd)
        except ScannerUnavailable:
            raise await scanner_unavailable(edge, "clamd failed during a scan") from None
        if reason:
            key = await run_in_threadpool(quarantine, edge, user, part, reason)
            problem = say(part.field, f"{printable(part.name)} was refused: {reason}")
            raise UploadRefused(f"{problem} It has been quarantined and an administrator informed.",
                                fields={part.field: problem},
                                extra={"file": part.name, "reason": reason, "quarantined_as": key})
        scan[part.name] = "clean" if clamd is not None else "type checked (virus scan not configured)"
    try:
        stored = await run_in_threadpool(store_parts, edge, up)
    except StorageError as exc:
        log.error("upload_storage_failed", error=str(exc))
        raise ServiceUnavailable("File storage is not available right now; please try again later.") from None
    slug = fields["slug"]
    new_files = [{**s, **({"role": "preview"} if s["kind"] == "preview" else {})}
                 for s in stored if s["kind"] in ("file", "preview")]
    new_images = [{**s, "role": "cover" if s["field"] == "cover" else "gallery"} for s in stored if s["kind"] == "image"]
    new_files, new_images = with_kept(edit, new_files, new_images)
    check_preview(new_files)
    if edit is not None:
        scan = {**json.loads(edit["scan"]), **scan}
    for img in new_images:
        img["path"] = image_path(slug, img)
    status = "draft" if fields.get("action") == "draft" else "pending"
    record = {k: fields.get(k, "") for k in TEXT_FIELDS if k not in ("slug", "action")}
    sub_id = save_submission(edge, user, slug, status, record, new_files, new_images, scan,
                             edit["id"] if edit is not None else None)
    said = "Your product was saved as a draft." if status == "draft" else "Your product was received: it waits for review."
    if "application/json" in request.headers.get("accept", ""):
        return flash.flash(request, JSONResponse({"id": sub_id, "status": status, "redirect": "/seller"}, status_code=201),
                           said)
    return flash.redirect(request, "/seller", said)


class UploadMiddleware:
    """Answers `POST /seller/products` itself, streaming, before the body-buffering middleware.

    A request over the whole-upload cap is refused from its Content-Length before anything else;
    any answer given before the whole body was read closes the connection, so the server never
    goes on reading (and throwing away) the rest of a refused upload."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.slots: UploadSlots | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        edge = edge_of(request)
        s = edge.settings
        if self.slots is None:
            self.slots = UploadSlots(s.UPLOAD_MAX_CONCURRENT_PER_SELLER)
        body = Body(receive, max_request_bytes(s), s.UPLOAD_IDLE_SECONDS)

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and not body.complete:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        try:
            _refuse_declared_size(request, body.limit)
            response = await handle(request, self.slots, body)
        except (ValidationFailed, UploadRefused) as exc:
            response = await _form_error(request, exc)
        except EdgeError as exc:
            response = error_response(request, exc)
        await response(scope, receive, send_closing)


def _refuse_declared_size(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return  # chunked: `Body` counts while it streams
    if not declared.isdigit():
        raise BadRequest("The Content-Length header is not a number.")
    if int(declared) > limit:
        raise PayloadTooLarge(whole_request_too_large(limit, int(declared)))


async def _form_error(request: Request, exc: EdgeError) -> Response:
    """Browsers without JavaScript get the form again with the messages; JSON clients the error."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        return JSONResponse(exc.as_json(), status_code=exc.status)

    return form_page(request, status=exc.status, error=exc.message, fields=exc.fields,
                     form=getattr(exc, "form", None))
