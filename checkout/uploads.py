"""Seller uploads: `POST /seller/products`, streamed.

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

import contextlib
import hashlib
import io
import json
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from digitaldock import schema
from digitaldock.storage import QUARANTINE, StorageError
from pipelines.scan import IMAGE_TYPES, PRODUCT_TYPES, Clamd, ScanError, sniff, type_problem

from . import consent, delivery, outbox
from .db import atomic
from .errors import (BadRequest, CsrfFailed, EdgeError, Forbidden, NotAuthenticated, PayloadTooLarge,
                     ServiceUnavailable, ValidationFailed)
from .middleware import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER

if TYPE_CHECKING:
    from .context import Edge

log = structlog.get_logger("checkout.uploads")
UPLOAD_PATH = "/seller/products"
TEXT_FIELDS = ("slug", "title", "category", "tags", "price", "currency", "pwyw_minimum", "summary",
               "license", "version", "description", "action")
MAX_FIELD_BYTES = 64 * 1024
FILE_FIELDS = {"files": "file", "cover": "image", "images": "image"}


class UploadRefused(EdgeError):
    """Raised when an uploaded file fails the type check or the virus scan (it is quarantined)."""
    status, code = 422, "upload_refused"


@dataclass
class Part:
    field: str
    name: str
    path: Path
    size: int = 0
    sha256: str = ""
    kind: str = ""


@dataclass
class Upload:
    fields: dict[str, str] = field(default_factory=dict)
    parts: list[Part] = field(default_factory=list)

    def discard(self) -> None:
        for p in self.parts:
            with contextlib.suppress(FileNotFoundError):
                p.path.unlink()


def spool_dir(edge: "Edge") -> Path:
    d = Path(edge.settings.UPLOAD_SPOOL_DIR or edge.settings.data_dir / "uploads")
    d.mkdir(parents=True, exist_ok=True)
    return d


def clamd_for(edge: "Edge") -> Clamd | None:
    s = edge.settings
    if s.CLAMD_SOCKET:
        return Clamd(socket_path=s.CLAMD_SOCKET)
    if s.CLAMD_HOST:
        return Clamd(host=s.CLAMD_HOST, port=s.CLAMD_PORT)
    return None


# --- the streaming parser --------------------------------------------------------------------

async def parse_stream(edge: "Edge", request: Request, csrf_expected: str | None) -> Upload:
    """Parse the multipart body into text fields and spooled files; see the module docstring."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest("Send the product form as multipart/form-data.")
    s = edge.settings
    up = Upload()
    header_csrf = request.headers.get(CSRF_HEADER)
    state: dict[str, Any] = {"headers": {}, "field": b"", "value": b"", "part": None, "text": None,
                             "fh": None, "hash": None, "csrf_ok": _csrf_ok(csrf_expected, header_csrf),
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
            fail(ValidationFailed(f"{fname!r}: {exc}", fields={name: f"{_printable(fname)}: {exc}"}))
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
                                 fields={part.field: f"{_printable(part.name)} is larger than "
                                                     f"{limit // (1024 * 1024)} MB."}))
            return
        state["hash"].update(chunk)
        state["fh"].write(chunk)

    def on_part_end() -> None:
        if state["text"] is not None:
            name, buf = state["text"]
            value = buf.decode("utf-8", "replace")
            if name == CSRF_FIELD:
                state["csrf_ok"] = state["csrf_ok"] or _csrf_ok(csrf_expected, value)
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


def _csrf_ok(expected: str | None, given: str | None) -> bool:
    import hmac
    return bool(expected and given and hmac.compare_digest(expected.encode(), given.encode()))


def _printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)


# --- checks ----------------------------------------------------------------------------------

def _chunks(path: Path, size: int = 1024 * 1024):
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def check_part(edge: "Edge", part: Part, clamd: Clamd | None) -> str | None:
    """Why `part` is refused (type, virus, broken image), or None; images are re-encoded in place."""
    if part.size == 0:
        return "the file is empty"
    with part.path.open("rb") as f:
        head = f.read(4096)
        rest = f.read() if sniff(head) == "svg" else b""
    problem = type_problem(head, IMAGE_TYPES if part.kind == "image" else PRODUCT_TYPES, rest)
    if problem is None and clamd is not None:
        try:
            with contextlib.closing(_chunks(part.path)) as chunks:
                signature = clamd.instream(chunks)
        except ScanError as exc:
            log.error("clamd_failed", error=str(exc))
            raise EdgeError("The virus scanner is not available right now; please try again later.",
                            code="scanner_unavailable", status=503) from None
        if signature:
            return f"virus found: {signature}"
    if problem is None and part.kind == "image" and sniff(head) != "svg":
        problem = _reencode(part)
    return problem


def _reencode(part: Part) -> str | None:
    """Open the image with Pillow and save it again without metadata (EXIF, GPS, comments)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(part.path) as im:
                im.verify()
            with Image.open(part.path) as im:
                fmt = im.format or "PNG"
                im.load()
                clean = im.copy()
            clean.info = {}  # EXIF, GPS, comments and text chunks are not written again
            buf = io.BytesIO()
            save_fmt = fmt if fmt in ("PNG", "JPEG", "GIF", "WEBP") else "PNG"
            clean.save(buf, save_fmt, **({"quality": 90} if save_fmt == "JPEG" else {}))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        return f"not a readable image ({type(exc).__name__})"
    data = buf.getvalue()
    part.path.write_bytes(data)
    part.size, part.sha256 = len(data), hashlib.sha256(data).hexdigest()
    return None


def quarantine(edge: "Edge", user: Any, part: Part, reason: str) -> str:
    """Keep a refused file out of reach under quarantine/uploads/, register it, alert admins."""
    store = delivery.storage(edge)
    key = f"{QUARANTINE}uploads/{part.sha256 or uuid.uuid4().hex}"
    with part.path.open("rb") as f:
        store.put(key, f)
    with atomic(edge.db):
        edge.db.execute("INSERT INTO quarantined_uploads (user_id, file_name, storage_key, reason, at) VALUES (?,?,?,?,?)",
                        (user["id"], part.name, key, reason, edge.clock.iso()))
        for admin in edge.db.execute("SELECT id, email FROM users WHERE role = 'admin' AND disabled_at IS NULL"):
            outbox.enqueue(edge, "upload_refused", admin["email"], admin["id"], seller=user["display_name"],
                           seller_id=user["id"], file_name=part.name, reason=reason, key=key,
                           link=f"{edge.settings.CHECKOUT_URL}/admin/submissions")
    log.warning("upload_quarantined", user_id=user["id"], file=part.name, reason=reason, key=key)
    return key


# --- submissions -----------------------------------------------------------------------------

def render_product(fields: dict[str, Any], seller: str, files: list[dict], images: list[dict],
                   published: str) -> str:
    """The product Markdown exactly as a pull request would add it (front matter + description)."""
    import yaml

    meta: dict[str, Any] = {"title": fields["title"], "seller": seller, "category": fields["category"]}
    tags = [t.strip() for t in str(fields.get("tags", "")).split(",") if t.strip()]
    if tags:
        meta["tags"] = tags
    meta["price"] = str(fields["price"])
    meta["currency"] = fields["currency"]
    if fields.get("pwyw_minimum"):
        meta["pwyw_minimum"] = str(fields["pwyw_minimum"])
    meta["summary"] = fields["summary"]
    cover = [i for i in images if i["role"] == "cover"]
    meta["cover"] = cover[0]["path"] if cover else ""
    gallery = [i["path"] for i in images if i["role"] == "gallery"]
    if gallery:
        meta["gallery"] = gallery
    meta["files"] = [{"name": f["name"], "size": f["size"], "sha256": f["sha256"], "key": f["key"]} for f in files]
    meta["license"] = fields["license"]
    meta["version"] = str(fields["version"])
    meta["published"] = published
    meta["status"] = "published"
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{fields['description'].strip()}\n"


def image_path(slug: str, image: dict[str, Any]) -> str:
    ext = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp", "svg": "svg"}.get(image.get("type", ""), "png")
    return f"images/products/{slug}/{image['sha256'][:16]}.{ext}"


def validate_fields(edge: "Edge", fields: dict[str, str], files: list[dict], images: list[dict]) -> None:
    """Refuse with every field problem at once, using the one product schema."""
    slug = fields.get("slug", "").strip()
    problems: dict[str, str] = {}
    if not schema.SLUG.match(slug) or not 3 <= len(slug) <= 80 or slug in schema.RESERVED_SLUGS:
        problems["slug"] = "Use 3–80 lowercase letters, digits and single hyphens, such as my-font."
    for name in ("title", "category", "price", "currency", "summary", "license", "version", "description"):
        if not fields.get(name, "").strip():
            problems[name] = "This field is required."
    if not files:
        problems["files"] = "Add at least one product file."
    if not any(i["role"] == "cover" for i in images):
        problems["cover"] = "Add a cover image."
    if problems:
        raise ValidationFailed(fields=problems)
    categories = _categories(edge)
    text = render_product({**fields, "slug": slug}, "seller-placeholder", files,
                          [{**i, "path": image_path(slug, i)} for i in images], "2000-01-01")
    _, found = schema.parse_product(f"{slug}.md", text, categories or None, None)
    for p in found:
        key = p.field.split("[")[0].split(".")[0]
        problems.setdefault("body" if key == "description" else key, p.message)
    if problems:
        raise ValidationFailed(fields={("description" if k == "body" else k): v for k, v in problems.items()})


def _categories(edge: "Edge") -> list[str]:
    state = edge.catalog.current()
    cats = [c.slug for c in state.categories]
    if not cats:
        path = Path(edge.settings.CONTENT_DIR) / "categories.yml"
        if path.is_file():
            found, _ = schema.parse_categories(str(path), path.read_text("utf-8"))
            cats = [c.slug for c in found]
    return cats


def require_seller(edge: "Edge", request: Request) -> Any:
    from .web import current

    found = current(request)
    if found is None:
        raise NotAuthenticated("Please sign in as a seller to upload products.")
    user = found[1]
    if user["role"] not in ("seller", "admin"):
        raise Forbidden("Only seller accounts can upload products.", code="not_a_seller")
    if consent.outstanding(edge, user):
        raise Forbidden("Please accept the current Seller Agreement first.", code="consent_required")
    return user


async def handle(request: Request) -> Response:
    """`POST /seller/products`: stream, check, store, and queue the submission for approval."""
    from .web import edge_of, render

    edge = edge_of(request)
    user = require_seller(edge, request)
    expected = edge.tokens.unsign_cookie("csrf", request.cookies.get(CSRF_COOKIE))
    up = await parse_stream(edge, request, expected)
    try:
        fields = {k: v.strip() if k != "description" else v for k, v in up.fields.items()}
        edit = _editable(edge, user, fields.get("slug", ""))
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
                raise UploadRefused(f"{_printable(part.name)} was refused: {reason}. It has been quarantined and "
                                    "an administrator informed.", fields={part.field: f"{_printable(part.name)}: {reason}"},
                                    extra={"file": part.name, "reason": reason, "quarantined_as": key})
            scan[part.name] = "clean" if clamd is not None else "type checked (virus scan not configured)"
        try:
            stored = await run_in_threadpool(_store, edge, up)
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


def _editable(edge: "Edge", user: Any, slug: str) -> Any:
    """The seller's latest submission of `slug`, or None; another seller's slug is refused."""
    rows = edge.db.execute("SELECT * FROM submissions WHERE product_slug = ? ORDER BY id DESC", (slug,)).fetchall()
    if rows and rows[0]["user_id"] != user["id"]:
        raise ValidationFailed(fields={"slug": "This product address is taken; choose another."})
    product = edge.catalog.current().products.get(slug)
    if product is not None and not rows:
        mine = _seller_slug_of(edge, user["id"])
        if product.get("seller") != mine:
            raise ValidationFailed(fields={"slug": "This product address is taken; choose another."})
    return rows[0] if rows else None


def _seller_slug_of(edge: "Edge", user_id: int) -> str | None:
    if edge.db["seller_accounts"].exists():
        row = edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY created_at LIMIT 1",
                              (user_id,)).fetchone()
        if row:
            return str(row[0])
    row = edge.db.execute("SELECT seller_slug FROM submissions WHERE user_id = ? AND seller_slug IS NOT NULL"
                          " ORDER BY id LIMIT 1", (user_id,)).fetchone()
    return str(row[0]) if row else None


def _store(edge: "Edge", up: Upload) -> list[dict[str, Any]]:
    store = delivery.storage(edge)
    out = []
    for part in up.parts:
        key = schema.storage_key(part.sha256)
        if store.stat(key) != part.size:
            with part.path.open("rb") as f:
                store.put(key, f)
        with part.path.open("rb") as f:
            kind = sniff(f.read(4096)) or ""
        out.append({"field": part.field, "kind": part.kind, "name": part.name, "size": part.size,
                    "sha256": part.sha256, "key": key, "type": kind})
    return out


def save_submission(edge: "Edge", user: Any, slug: str, status: str, fields: dict, files: list, images: list,
                    scan: dict, existing: int | None) -> int:
    now = edge.clock.iso()
    with atomic(edge.db):
        if existing is None:
            cur = edge.db.execute(
                "INSERT INTO submissions (user_id, product_slug, status, fields, files, images, scan, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (user["id"], slug, status, json.dumps(fields), json.dumps(files), json.dumps(images),
                 json.dumps(scan), now, now))
            sub_id = int(cur.lastrowid)
        else:
            edge.db.execute("UPDATE submissions SET status = ?, fields = ?, files = ?, images = ?, scan = ?,"
                            " reason = NULL, updated_at = ? WHERE id = ?",
                            (status, json.dumps(fields), json.dumps(files), json.dumps(images), json.dumps(scan),
                             now, existing))
            sub_id = existing
    log.info("submission_saved", id=sub_id, slug=slug, status=status)
    return sub_id


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
    from .seller_web import form_page

    return form_page(request, status=exc.status, error=exc.message, fields=exc.fields,
                     form=getattr(exc, "form", None))


