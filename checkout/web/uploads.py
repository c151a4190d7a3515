"""Seller uploads, the HTTP half: `POST /seller/products`, streamed (the checks and the
submission are `checkout.delivery.uploads`).

The request body is parsed as it arrives (python-multipart's push parser) and never held in
memory: each file part is written in chunks to a spool file under UPLOAD_SPOOL_DIR while its
SHA-256 and size are computed; a part over its limit (UPLOAD_MAX_FILE_BYTES for product
files, UPLOAD_MAX_IMAGE_BYTES for images) stops the upload at once with 413, and every spool
file of the request is deleted. Then each file is checked by magic bytes against the
allowlists of `pipelines.scan` and scanned by clamd through its INSTREAM client; images are
opened with Pillow and re-encoded, which drops their metadata. A refused file is moved under
`quarantine/uploads/` in storage, recorded in `quarantined_uploads`, the seller is told which
file and why, and the admins get an email. Accepted files move to storage under their
content-hash key and the submission joins the approval queue.

The global body-size limit and the CSRF middleware both read whole bodies, so this endpoint
is served by `UploadMiddleware`, which sits just inside the request-context middleware and
answers this one route itself: it checks the session, the seller role and the CSRF token (the
`X-CSRF-Token` header, or the `csrf_token` field, which must come before any file) before it
reads a single file byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import structlog
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from checkout.core.context import Edge
from checkout.core.errors import (
    BadRequest,
    CsrfFailed,
    EdgeError,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)
from checkout.delivery.errors import UploadRefused
from checkout.delivery.uploads import (
    FILE_FIELDS,
    MAX_FIELD_BYTES,
    TEXT_FIELDS,
    Part,
    Upload,
    check_part,
    clamd_for,
    editable_submission,
    image_path,
    printable,
    quarantine,
    save_submission,
    spool_dir,
    store_parts,
    validate_fields,
)
from checkout.web.auth import authorize
from checkout.web.base import edge_of
from checkout.web.middleware import CSRF_FIELD, CSRF_HEADER, csrf_expected, csrf_matches
from checkout.web.seller import form_page
from digitaldock import schema
from digitaldock.storage import StorageError

log = structlog.get_logger("checkout.uploads")


UPLOAD_PATH = "/seller/products"


async def parse_stream(edge: "Edge", request: Request, csrf_tokens: tuple[str, ...]) -> Upload:
    """Parse the multipart body into text fields and spooled files; see the module docstring."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("Send the product form as multipart/form-data.")
    s = edge.settings
    up = Upload()
    header_csrf = request.headers.get(CSRF_HEADER)
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "part": None, "text": None,
                             "fh": None, "hash": None, "csrf_ok": _csrf_ok(csrf_tokens, header_csrf),
                             "error": None, "images": 0, "files": 0}
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
        _, opts = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        filename = opts.get(b"filename")
        if filename is None:
            state["text"] = (name, bytearray())
            return
        if not state["csrf_ok"]:
            fail(CsrfFailed())
            return
        fname = filename.decode("utf-8", "replace")
        if name not in FILE_FIELDS or fname == "":
            state["part"] = None  # an empty file input, or a field we do not take
            state["skip"] = True
            return
        try:
            schema.check_file_name(fname)
        except ValueError as exc:
            fail(ValidationFailed(f"{fname!r}: {exc}", fields={name: f"{printable(fname)}: {exc}"}))
            return
        kind = FILE_FIELDS[name]
        if kind == "image":
            state["images"] += 1
            if name == "images" and sum(1 for p in up.parts if p.field == "images") >= s.UPLOAD_MAX_IMAGES:
                fail(ValidationFailed(f"At most {s.UPLOAD_MAX_IMAGES} gallery images.",
                                      fields={"images": f"At most {s.UPLOAD_MAX_IMAGES} gallery images."}))
                return
            if name == "cover" and any(p.field == "cover" for p in up.parts):
                fail(ValidationFailed("One cover image only.", fields={"cover": "One cover image only."}))
                return
        elif len([p for p in up.parts if p.field == "files"]) >= schema.MAX_FILES:
            fail(ValidationFailed(f"At most {schema.MAX_FILES} files.", fields={"files": f"At most {schema.MAX_FILES} files."}))
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
                fail(PayloadTooLarge(f"The field {state['text'][0]} is too long."))
            return
        part: Part | None = state["part"]
        if part is None:
            return
        chunk = data[start:end]
        part.size += len(chunk)
        limit = s.UPLOAD_MAX_IMAGE_BYTES if part.kind == "image" else s.UPLOAD_MAX_FILE_BYTES
        if part.size > limit:
            fail(PayloadTooLarge(f"{part.name} is larger than {limit // (1024 * 1024)} MB.",
                                 fields={part.field: f"{printable(part.name)} is larger than "
                                                     f"{limit // (1024 * 1024)} MB."}))
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
        async for chunk in request.stream():
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


async def handle(request: Request) -> Response:
    """`POST /seller/products`: stream, check, store, and queue the submission for approval."""

    edge = edge_of(request)
    user = authorize(request, ("seller",), api=True, forbidden="Only seller accounts can upload products.",
                     forbidden_code="not_a_seller", unauthenticated="Please sign in as a seller to upload products.")
    expected = csrf_expected(edge, request.cookies)
    up = await parse_stream(edge, request, expected)
    try:
        fields = {k: v.strip() if k != "description" else v for k, v in up.fields.items()}
        edit = editable_submission(edge, user, fields.get("slug", ""))
        images = [{"role": "cover" if p.field == "cover" else "gallery", "name": p.name} for p in up.parts if p.kind == "image"]
        files = [{"name": p.name} for p in up.parts if p.kind == "file"]
        if edit is not None:  # an edit keeps the files and images it does not replace
            files = files or json.loads(edit["files"])
            old_images = json.loads(edit["images"])
            if not any(i["role"] == "cover" for i in images):
                images = [i for i in old_images if i["role"] == "cover"] + images
            if not any(i["role"] == "gallery" for i in images):
                images += [i for i in old_images if i["role"] == "gallery"]
        # field checks first: nothing is scanned or stored for a form that cannot be accepted
        try:
            validate_fields(edge, fields, [{"size": 1, "sha256": "0" * 64, "key": "k", **f} for f in files],
                            [{"sha256": "0" * 64, **i} for i in images])
        except ValidationFailed as exc:
            exc.form = fields  # type: ignore[attr-defined] - the no-JS form shows the input again
            raise
        clamd = clamd_for(edge)
        if clamd is None and edge.settings.production:
            log.error("upload_without_scanner")
            raise ServiceUnavailable("Uploads are paused: the virus scanner is not configured.")
        scan: dict[str, str] = {}
        for part in up.parts:
            reason = await run_in_threadpool(check_part, edge, part, clamd)
            if reason:
                key = await run_in_threadpool(quarantine, edge, user, part, reason)
                raise UploadRefused(f"{printable(part.name)} was refused: {reason}. It has been quarantined and "
                                    "an administrator informed.", fields={part.field: f"{printable(part.name)}: {reason}"},
                                    extra={"file": part.name, "reason": reason, "quarantined_as": key})
            scan[part.name] = "clean" if clamd is not None else "type checked (virus scan not configured)"
        try:
            stored = await run_in_threadpool(store_parts, edge, up)
        except StorageError as exc:
            log.error("upload_storage_failed", error=str(exc))
            raise ServiceUnavailable("File storage is not available right now; please try again later.") from None
        slug = fields["slug"]
        new_files = [s for s in stored if s["kind"] == "file"]
        new_images = [{**s, "role": "cover" if s["field"] == "cover" else "gallery"} for s in stored if s["kind"] == "image"]
        if edit is not None:
            new_files = new_files or json.loads(edit["files"])
            old_images = json.loads(edit["images"])
            if not any(i["role"] == "cover" for i in new_images):
                new_images = [i for i in old_images if i["role"] == "cover"] + new_images
            if not any(i["role"] == "gallery" for i in new_images):
                new_images += [i for i in old_images if i["role"] == "gallery"]
            scan = {**json.loads(edit["scan"]), **scan}
        for img in new_images:
            img["path"] = image_path(slug, img)
        status = "draft" if fields.get("action") == "draft" else "pending"
        record = {k: fields.get(k, "") for k in TEXT_FIELDS if k not in ("slug", "action")}
        sub_id = save_submission(edge, user, slug, status, record, new_files, new_images, scan,
                                 edit["id"] if edit is not None else None)
    finally:
        up.discard()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"id": sub_id, "status": status, "redirect": f"/seller?submitted={sub_id}"}, status_code=201)
    return RedirectResponse(f"/seller?submitted={sub_id}", status_code=303)


class UploadMiddleware:
    """Answers `POST /seller/products` itself, streaming, before the body-buffering middleware."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == UPLOAD_PATH:
            request = Request(scope, receive)
            try:
                response = await handle(request)
            except (ValidationFailed, UploadRefused) as exc:
                response = await _form_error(request, exc)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _form_error(request: Request, exc: EdgeError) -> Response:
    """Browsers without JavaScript get the form again with the messages; JSON clients the error."""
    accept = request.headers.get("accept", "")
    if "application/json" in accept:
        return JSONResponse(exc.as_json(), status_code=exc.status)

    return form_page(request, status=exc.status, error=exc.message, fields=exc.fields,
                     form=getattr(exc, "form", None))
