"""Seller uploads, the domain half: checking spooled files (type by magic bytes, clamd, images
re-encoded without metadata), quarantining refused ones, and turning a form into the same
product Markdown a pull request would add. The streaming HTTP half is `checkout.web.uploads`.
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
from typing import Any

import structlog

from checkout.core import outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import EdgeError, ValidationFailed
from checkout.delivery import slugs, storage
from checkout.delivery.sellers import seller_slug_of
from digitaldock import schema
from digitaldock.storage import QUARANTINE
from pipelines.scan import IMAGE_TYPES, PRODUCT_TYPES, Clamd, ScanError, sniff, type_problem

log = structlog.get_logger("checkout.delivery.uploads")


TEXT_FIELDS = ("slug", "title", "category", "tags", "price", "currency", "pwyw_minimum", "summary",
               "license", "version", "description", "action")


MAX_FIELD_BYTES = 64 * 1024


FILE_FIELDS = {"files": "file", "cover": "image", "images": "image"}


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


def printable(name: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in name)


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
    categories = category_slugs(edge)
    text = render_product({**fields, "slug": slug}, "seller-placeholder", files,
                          [{**i, "path": image_path(slug, i)} for i in images], "2000-01-01")
    _, found = schema.parse_product(f"{slug}.md", text, categories or None, None)
    for p in found:
        key = p.field.split("[")[0].split(".")[0]
        problems.setdefault("body" if key == "description" else key, p.message)
    if problems:
        raise ValidationFailed(fields={("description" if k == "body" else k): v for k, v in problems.items()})


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
