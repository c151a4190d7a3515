"""Seller uploads, the domain half: checking spooled files (type by magic bytes, clamd, images
re-encoded without metadata), quarantining refused ones, and turning a form into the same
product Markdown a pull request would add. The streaming HTTP half is `checkout.web.uploads`.

Covers and gallery images are raster only (`UPLOAD_IMAGE_TYPES`): an SVG is a document that can
carry script in more forms than any filter keeps up with (namespaced or XHTML script elements,
entity-encoded `javascript:` links, `foreignObject` frames), and a cover needs none of it.
Images are decoded one at a time, and only when their header says they are at most
UPLOAD_MAX_IMAGE_PIXELS: a small PNG can declare a huge canvas.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import stat
import threading
import unicodedata
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from checkout.core import outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import ValidationFailed
from checkout.core.settings import Settings
from checkout.delivery import slugs, storage
from checkout.delivery.errors import ScannerUnavailable
from checkout.delivery.sellers import seller_slug_of
from digitaldock import schema
from digitaldock.storage import QUARANTINE
from pipelines.scan import PREVIEW_TYPES, PRODUCT_TYPES, Clamd, ScanError, sniff, type_problem

log = structlog.get_logger("checkout.delivery.uploads")


TEXT_FIELDS = ("slug", "title", "category", "tags", "price", "currency", "pwyw_minimum", "summary",
               "license", "version", "description", "action", "license_keys", "license_activations", "stamp_pdfs")


# a text field of the streamed form: room for the longest description in UTF-8 (4 bytes a character)
MAX_FIELD_BYTES = schema.DESCRIPTION_LEN[1] * 4 + 4096

# the preview and the pre-flight check take the text fields as a form: a longest description
# percent-encoded (up to 12 bytes a character) and the short fields fit in 256 KiB
TEXT_FORM_MAX_BYTES = 256 * 1024


FILE_FIELDS = {"files": "file", "cover": "image", "images": "image", "sample": "preview"}

# what a seller reads beside each field of the form; every message names its field this way
LABELS = {"title": "Title", "slug": "Web address (slug)", "category": "Category", "tags": "Tags",
          "price": "Price", "currency": "Currency", "pwyw_minimum": "Pay-what-you-want minimum",
          "summary": "Summary", "license": "License", "version": "Version", "description": "Description",
          "files": "Product files", "cover": "Cover image", "images": "Gallery images", "sample": "Preview",
          "license_keys": "License keys", "license_activations": "Activations per key", "stamp_pdfs": "Stamp PDFs"}


def is_preview(f: dict[str, Any]) -> bool:
    """Whether a submission's file entry is the product's public preview (issue #15), kept in
    `files` with `role: preview` beside the files a buyer pays for."""
    return f.get("role") == "preview"


# covers and gallery images: raster formats only (see the module docstring)
UPLOAD_IMAGE_TYPES = frozenset({"png", "jpeg", "gif", "webp"})
IMAGE_FORMATS = "PNG, JPEG, GIF or WebP"
IMAGE_MIME_TYPES = "image/png,image/jpeg,image/gif,image/webp"

# one image decoded at a time in the whole process: a decoded image costs width × height × 4
# bytes however small its file is, so concurrent uploads must not multiply that
_DECODE = threading.Lock()


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


def max_request_bytes(settings: Settings) -> int:
    """The whole-request cap of an upload: UPLOAD_MAX_REQUEST_BYTES, or when 0 three product files
    and a cover and every gallery image at their limits, plus 1 MiB for the fields and headers."""
    if settings.UPLOAD_MAX_REQUEST_BYTES > 0:
        return int(settings.UPLOAD_MAX_REQUEST_BYTES)
    return (3 * settings.UPLOAD_MAX_FILE_BYTES + (settings.UPLOAD_MAX_IMAGES + 1) * settings.UPLOAD_MAX_IMAGE_BYTES
            + 1024 * 1024)


def clamd_for(edge: "Edge") -> Clamd | None:
    """The clamd uploads are scanned with: CLAMD_SOCKET or CLAMD_HOST when set; otherwise the one
    on CLAMD_DEFAULT_SOCKET when it answers PING (clamd installed but not configured still scans);
    None when there is none."""
    s = edge.settings
    if s.CLAMD_SOCKET:
        return Clamd(socket_path=s.CLAMD_SOCKET)
    if s.CLAMD_HOST:
        return Clamd(host=s.CLAMD_HOST, port=s.CLAMD_PORT)
    path = Path(s.CLAMD_DEFAULT_SOCKET) if s.CLAMD_DEFAULT_SOCKET else None
    try:
        if path is None or not stat.S_ISSOCK(path.stat().st_mode):
            return None
    except OSError:
        return None
    found = Clamd(socket_path=str(path), timeout=5.0)
    try:
        found.ping()
    except ScanError as exc:
        log.warning("clamd_default_socket_silent", socket=str(path), error=str(exc))
        return None
    found.timeout = 120.0
    return found


def check_scanner(edge: "Edge") -> str | None:
    """An alert check (registered in `checkout.wiring`): in production, uploads are refused
    while no clamd answers, so the people who run the edge hear of it before a seller does."""
    if not edge.settings.production:
        return None
    clamd = clamd_for(edge)
    if clamd is None:
        return "no clamd answers (CLAMD_SOCKET, CLAMD_HOST, CLAMD_DEFAULT_SOCKET): seller uploads are refused"
    try:
        clamd.ping()
    except ScanError as exc:
        return f"clamd does not answer ({exc}): seller uploads are refused"
    return None


def printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)


def say(field_name: str, message: str) -> str:
    """`message` about a form field, opening with the field's label as the seller reads it."""
    label = LABELS.get(field_name, field_name)
    message = message.strip().removeprefix("body ")
    if message.startswith(("must ", "is ")):
        text = f"{label} {message}"
    else:
        text = f"{label}: {message[:1].lower() + message[1:] if message[1:2].islower() else message}"
    return text if text.endswith((".", "?", "!")) else text + "."


def upload_name(field_name: str, raw: bytes | str) -> str:
    """The file name a browser sent for `field_name`, in NFC, or ValidationFailed naming the
    field and what is wrong (`digitaldock.schema.check_file_name`: the rule `validate` applies)."""
    try:
        name = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        problem = say(field_name, "the file name is not valid UTF-8; rename the file")
        raise ValidationFailed(problem, fields={field_name: problem}) from None
    # a browser sends a name's line breaks and quotes percent-encoded (HTML's multipart rules)
    name = name.replace("%0A", "\n").replace("%0D", "\r").replace("%22", '"')
    try:
        return schema.check_file_name(name)
    except ValueError as exc:
        nfc = unicodedata.normalize("NFC", name)
        problem = say(field_name, f"the file name “{printable(nfc)[:120]}” {str(exc).replace(repr(nfc), '').strip()}")
        raise ValidationFailed(problem, fields={field_name: problem}) from None


def _chunks(path: Path, size: int = 1024 * 1024):
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def check_part(edge: "Edge", part: Part, clamd: Clamd | None) -> str | None:
    """Why `part` is refused (type, virus, broken or oversized image), or None; images are
    re-encoded in place."""
    if part.size == 0:
        return "the file is empty"
    with part.path.open("rb") as f:
        head = f.read(4096)
        kind = sniff(head)
        rest = f.read() if kind == "svg" and part.kind != "image" else b""
    if part.kind == "image":
        problem = image_type_problem(head)
    elif part.kind == "preview":  # public, shown on the product page: only kinds a browser shows
        problem = type_problem(head, PREVIEW_TYPES, rest)
    else:
        problem = type_problem(head, PRODUCT_TYPES, rest)
    if problem is None and clamd is not None:
        try:
            with contextlib.closing(_chunks(part.path)) as chunks:
                signature = clamd.instream(chunks)
        except ScanError as exc:
            log.error("clamd_failed", error=str(exc))
            raise ScannerUnavailable("The virus scanner is not available right now; please try again later.") from None
        if signature:
            return f"virus found: {signature}"
    if problem is None and part.kind == "image":
        problem = _reencode(part, edge.settings.UPLOAD_MAX_IMAGE_PIXELS)
    return problem


def image_type_problem(head: bytes) -> str | None:
    """Why content starting with `head` is no cover or gallery image, or None (raster only)."""
    kind = sniff(head)
    if kind == "svg":
        return f"SVG images are not accepted; use {IMAGE_FORMATS}"
    if kind in UPLOAD_IMAGE_TYPES:
        return None
    problem = type_problem(head, UPLOAD_IMAGE_TYPES)
    return f"{problem}; use {IMAGE_FORMATS}" if problem else f"not an image; use {IMAGE_FORMATS}"


def _reencode(part: Part, max_pixels: int) -> str | None:
    """Open the image with Pillow and save it again without metadata (EXIF, GPS, comments).

    Its size comes from the header alone (`Image.open` decodes nothing); only an image within
    `max_pixels` is decoded, and one at a time in the process (`_DECODE`)."""
    from PIL import Image, UnidentifiedImageError

    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(part.path) as im:
                width, height = im.size
                fmt = im.format or "PNG"
            if width * height > max_pixels:
                return (f"the image is {width} × {height} pixels; at most {megapixels(max_pixels)} are accepted "
                        "(make it smaller)")
            with _DECODE:
                with Image.open(part.path) as im:
                    im.verify()
                with Image.open(part.path) as im:
                    im.load()
                    # EXIF, GPS, comments and text chunks are not written again; transparency is pixels
                    im.info = {k: v for k, v in im.info.items() if k == "transparency"}
                    save_fmt = fmt if fmt in ("PNG", "JPEG", "GIF", "WEBP") else "PNG"
                    im.save(buf, save_fmt, **({"quality": 90} if save_fmt == "JPEG" else {}))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as exc:
        return f"not a readable image ({type(exc).__name__})"
    data = buf.getvalue()
    part.path.write_bytes(data)
    part.size, part.sha256 = len(data), hashlib.sha256(data).hexdigest()
    return None


def megapixels(pixels: int) -> str:
    """25000000 → "25 megapixels", as the form and the refusals say it (a limit under one
    megapixel in pixels)."""
    return f"{pixels / 1_000_000:g} megapixels" if pixels >= 1_000_000 else f"{pixels:,} pixels"


def quarantine(edge: "Edge", user: Any, part: Part, reason: str) -> str:
    """Keep a refused file out of reach under quarantine/uploads/, register it, alert admins."""
    store = storage.storage(edge)
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
    meta["files"] = [{"name": f["name"], "size": f["size"], "sha256": f["sha256"], "key": f["key"]}
                     for f in files if not is_preview(f)]
    for f in files:
        if is_preview(f):
            meta["preview"] = {"name": f["name"], "size": f["size"], "sha256": f["sha256"], "key": f["key"]}
    meta["license"] = fields["license"]
    # issue #18: checkboxes send "on"; the activations are a whole number, or text the schema refuses by name
    if str(fields.get("license_keys", "")).lower() in ("on", "true", "1"):
        meta["license_keys"] = True
    activations = str(fields.get("license_activations", "")).strip()
    if activations:
        meta["license_activations"] = int(activations) if activations.isascii() and activations.isdigit() \
            and len(activations) < 10 else activations
    if str(fields.get("stamp_pdfs", "")).lower() in ("on", "true", "1"):
        meta["stamp_pdfs"] = True
    meta["version"] = str(fields["version"])
    meta["published"] = published
    meta["status"] = "published"
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{fields['description'].strip()}\n"


def image_path(slug: str, image: dict[str, Any]) -> str:
    ext = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp", "svg": "svg"}.get(image.get("type", ""), "png")
    return f"images/products/{slug}/{image['sha256'][:16]}.{ext}"


def validate_fields(edge: "Edge", fields: dict[str, str], files: list[dict], images: list[dict]) -> None:
    """Refuse with every field problem at once, using the one product schema; each message opens
    with the field's label (`LABELS`), as the form shows it."""
    slug = fields.get("slug", "").strip()
    problems: dict[str, str] = {}
    if not schema.SLUG.match(slug) or not 3 <= len(slug) <= 80 or slug in schema.RESERVED_SLUGS:
        problems["slug"] = say("slug", "use 3–80 lowercase letters, digits and single hyphens, such as my-font")
    for name in ("title", "category", "price", "currency", "summary", "license", "version", "description"):
        if not fields.get(name, "").strip():
            problems[name] = say(name, "is required")
    if not [f for f in files if not is_preview(f)]:
        problems["files"] = say("files", "add at least one product file")
    if not any(i["role"] == "cover" for i in images):
        problems["cover"] = say("cover", "add a cover image")
    categories = category_slugs(edge)
    text = render_product({**dict.fromkeys(TEXT_FIELDS, ""), **fields, "slug": slug}, "seller-placeholder", files,
                          [{**i, "path": image_path(slug, i)} for i in images], "2000-01-01")
    _, found = schema.parse_product(f"{slug or 'x'}.md", text, categories or None, None)
    other: list[str] = []  # a problem of no form field (none is known): still a refusal
    for p in found:
        key = p.field.split("[")[0].split(".")[0]
        key = {"body": "description", "gallery": "images", "preview": "sample"}.get(key, key)
        if key in LABELS:
            problems.setdefault(key, say(key, p.message))
        else:
            other.append(f"{p.field}: {p.message}")
    if problems or other:
        raise ValidationFailed("; ".join(other) or None, fields=problems)


def category_slugs(edge: "Edge") -> list[str]:
    state = edge.catalog.current()
    cats = [c.slug for c in state.categories]
    if not cats:
        path = Path(edge.settings.CONTENT_DIR) / "categories.yml"
        if path.is_file():
            found, _ = schema.parse_categories(str(path), path.read_text("utf-8"))
            cats = [c.slug for c in found]
    return cats


def editable_submission(edge: "Edge", user: Any, slug: str) -> Any:
    """The seller's latest submission of `slug`, or None; a slug another seller ever used is
    refused (checkout/delivery/slugs.py)."""
    slugs.check_free_for(edge, slug, user["id"], seller_slug_of(edge, user["id"]))
    return edge.db.execute("SELECT * FROM submissions WHERE product_slug = ? AND user_id = ? ORDER BY id DESC",
                           (slug, user["id"])).fetchone()


def with_kept(edit: Any, files: list[dict], images: list[dict]) -> tuple[list[dict], list[dict]]:
    """What a submission will hold: the new files and images, and for an edit those of the
    submission it edits that nothing new replaces (files as a set, the cover, the gallery)."""
    if edit is None:
        return files, images
    old_files = json.loads(edit["files"])
    paid = [f for f in files if not is_preview(f)] or [f for f in old_files if not is_preview(f)]
    files = paid + ([f for f in files if is_preview(f)] or [f for f in old_files if is_preview(f)])
    old_images = json.loads(edit["images"])
    if not any(i["role"] == "cover" for i in images):
        images = [i for i in old_images if i["role"] == "cover"] + images
    if not any(i["role"] == "gallery" for i in images):
        images = images + [i for i in old_images if i["role"] == "gallery"]
    return files, images


def check_form(edge: "Edge", user: Any, fields: dict[str, str], files: list[dict], images: list[dict]) -> Any:
    """Every problem of the form's fields at once, before a file is scanned or stored (and from
    the pre-flight check, before one is sent); returns the submission it edits, or None.
    `files` and `images` carry a `name` (images a `role`): what the browser is sending."""
    problems: dict[str, str] = {}
    try:
        edit = editable_submission(edge, user, fields.get("slug", ""))
    except ValidationFailed as exc:
        problems.update(exc.fields)
        edit = None
    files, images = with_kept(edit, files, images)
    try:
        # placeholders for what is not stored yet: a preview's never equals a product file's
        validate_fields(edge, fields, [{"size": 1, "sha256": ("1" if is_preview(f) else "0") * 64, "key": "k", **f}
                                       for f in files],
                        [{"sha256": "0" * 64, **i} for i in images])
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={**exc.fields, **problems}) from None
    if problems:
        raise ValidationFailed(fields=problems)
    return edit


def check_preview(files: list[dict[str, Any]]) -> None:
    """Once the files are hashed: a preview is public, so it may not be one of the paid files."""
    paid = {f["sha256"] for f in files if not is_preview(f)}
    if any(is_preview(f) and f["sha256"] in paid for f in files):
        message = say("sample", "is one of the product's files: a preview is public, so it must be a sample, "
                                 "never the paid file itself")
        raise ValidationFailed(message, fields={"sample": message})


def size_limit(settings: Settings, kind: str) -> int:
    if kind == "preview":
        return min(int(settings.UPLOAD_MAX_FILE_BYTES), schema.MAX_PREVIEW_BYTES)
    return int(settings.UPLOAD_MAX_IMAGE_BYTES if kind == "image" else settings.UPLOAD_MAX_FILE_BYTES)


def too_large(field_name: str, name: str, limit: int) -> str:
    return say(field_name, f"{printable(name)} is larger than {limit // (1024 * 1024)} MB")


def preflight(edge: "Edge", user: Any, fields: dict[str, str], planned: list[dict[str, Any]]) -> None:
    """What the upload would refuse before its files are read, said before they are sent: the
    fields (`check_form`), and each planned file's name, size and count. `planned` holds
    `{"field", "name", "size"}` for each chosen file."""
    s = edge.settings
    problems: dict[str, str] = {}
    counts = {"files": 0, "cover": 0, "images": 0, "sample": 0}
    for item in planned:
        field_name, size = item["field"], item["size"]
        counts[field_name] += 1
        try:
            name = upload_name(field_name, item["name"])
        except ValidationFailed as exc:
            problems.setdefault(field_name, exc.fields[field_name])
            continue
        limit = size_limit(s, FILE_FIELDS[field_name])
        if size > limit:
            problems.setdefault(field_name, too_large(field_name, name, limit))
        elif size == 0:
            problems.setdefault(field_name, say(field_name, f"{printable(name)} is empty"))
    if counts["files"] > schema.MAX_FILES:
        problems["files"] = say("files", f"at most {schema.MAX_FILES} files per product")
    if counts["cover"] > 1:
        problems["cover"] = say("cover", "one cover image only")
    if counts["sample"] > 1:
        problems["sample"] = say("sample", "one preview only")
    if counts["images"] > s.UPLOAD_MAX_IMAGES:
        problems["images"] = say("images", f"at most {s.UPLOAD_MAX_IMAGES} images per product")
    files = [{"name": "file"} for i in planned if i["field"] == "files"]
    files += [{"name": str(i["name"]), "role": "preview"} for i in planned if i["field"] == "sample"]
    images = [{"role": "cover" if i["field"] == "cover" else "gallery", "name": "image"}
              for i in planned if i["field"] in ("cover", "images")]
    try:
        check_form(edge, user, fields, files, images)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={**exc.fields, **problems}) from None
    if problems:
        raise ValidationFailed(fields=problems)


def store_parts(edge: "Edge", up: Upload) -> list[dict[str, Any]]:
    store = storage.storage(edge)
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


def quarantined(edge: "Edge", limit: int = 50) -> list[dict[str, Any]]:
    """Refused uploads, newest first, with the uploader's email."""
    return [dict(r) for r in edge.db.execute(
        "SELECT q.*, u.email FROM quarantined_uploads q LEFT JOIN users u ON u.id = q.user_id ORDER BY q.id DESC LIMIT ?",
        (limit,))]


def latest_submission(edge: "Edge", user_id: int, slug: str) -> dict[str, Any] | None:
    """The user's latest submission of `slug` (decoded), or None when they have none."""
    row = edge.db.execute("SELECT * FROM submissions WHERE product_slug = ? AND user_id = ? ORDER BY id DESC",
                          (slug, user_id)).fetchone()
    if row is None:
        return None
    return {**dict(row), "fields": json.loads(row["fields"])}


def submissions_of(edge: "Edge", user_id: int) -> dict[str, dict[str, Any]]:
    """The user's latest submission of each product slug (decoded), most recently updated first."""
    latest: dict[str, dict[str, Any]] = {}
    for r in edge.db.execute("SELECT * FROM submissions WHERE user_id = ? ORDER BY updated_at DESC", (user_id,)):
        latest.setdefault(r["product_slug"], decode(r))
    return latest


def decode(row: Any) -> dict[str, Any]:
    d = dict(row)
    for k, default in (("fields", {}), ("files", []), ("images", []), ("scan", {})):
        d[k] = json.loads(d.get(k) or json.dumps(default))
    return d


def submissions_list(edge: "Edge", user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """A user's submissions, newest first (id, slug, status, when, the reason of a rejection)."""
    return [dict(r) for r in edge.db.execute(
        "SELECT id, product_slug, status, updated_at, reason FROM submissions WHERE user_id = ? ORDER BY id DESC"
        " LIMIT ?", (user_id, limit))]
