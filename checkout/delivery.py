"""Delivery: the buyer's library, signed expiring download links, limits and the download log.

Ownership never expires; links do. A link is minted on demand from the library for one user,
one purchase and one file (by its SHA-256), signed with itsdangerous and valid
DOWNLOAD_LINK_HOURS. Redeeming it (`redeem`) checks, in this order: signature (forged →
`invalid_token`), age (expired → `LinkExpired`, whose page offers a fresh link in one click),
the signed-in user (another user's link → `forbidden`), the purchase (refunded or revoked →
`purchase_inactive`), the file (not part of the product → `file_not_owned`), whether the link
already started a download (a plain replay → `LinkUsed`; a `Range` request or HEAD continues
it), the per-file allowance (DOWNLOADS_PER_FILE → `download_limit`) and the per-user hourly
limit (DOWNLOADS_PER_HOUR → `rate_limited`). Each attempt with a valid signature is written to
`downloads` with its outcome; only `started` rows count. The counting and the insert happen in
one transaction and a unique index allows one start per link, so concurrent replays cannot
both win.

Files come from the catalogue the edge loaded (`catalog.json` `products[slug].files`), so a
new version of a product shows up in every owner's library at once; `notify_new_versions`
emails the owners through the outbox, once per version.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from digitaldock.storage import LocalStorage, ReadThroughStorage, S3Storage, Storage, StorageError

from . import gdpr, keyring, outbox, product_retention
from .clock import iso, parse_iso
from .db import atomic
from .errors import EdgeError, Forbidden, InvalidToken, NotFound, RateLimited, ServiceUnavailable

if TYPE_CHECKING:
    from .context import Edge

log = structlog.get_logger("checkout.delivery")
STARTED = "started"


class LinkExpired(EdgeError):
    """Raised for a genuine link past its lifetime; carries what is needed to mint a fresh one."""
    status, code, message = 410, "link_expired", "This download link has expired. Get a fresh one below."


class LinkUsed(EdgeError):
    """Raised when a link that already started a download is opened again as a new download."""
    status, code, message = 410, "link_used", "This download link was already used. Get a fresh one below."


class DownloadLimit(EdgeError):
    """Raised when a purchase has used every download of a file."""
    status, code = 403, "download_limit"


class PurchaseInactive(EdgeError):
    """Raised for a refunded or revoked purchase: it downloads nothing."""
    status, code, message = 403, "purchase_inactive", "This purchase was refunded or revoked, so it has no downloads."


# --- storage ---------------------------------------------------------------------------------

def storage_for(settings: Any) -> Storage:
    """The edge's storage from its settings (see docs/delivery.md)."""
    if settings.STORAGE_BACKEND == "s3":
        return S3Storage(settings.S3_BUCKET, settings.S3_ENDPOINT_URL or None, settings.S3_PREFIX)
    if settings.STORAGE_BACKEND != "local":
        raise StorageError(f"STORAGE_BACKEND={settings.STORAGE_BACKEND!r} is not a storage backend; use 'local' or 's3'")
    root = Path(settings.STORAGE_DIR or settings.data_dir / "storage")
    content = Path(settings.CONTENT_DIR) / "storage"
    if content.resolve() == root.resolve():
        return LocalStorage(root)
    return ReadThroughStorage(LocalStorage(root), LocalStorage(content))


def storage(edge: "Edge") -> Storage:
    """One storage per edge, built on first use."""
    found = edge.__dict__.get("_delivery_storage")
    if found is None:
        try:
            found = storage_for(edge.settings)
        except StorageError as exc:
            log.error("storage_unavailable", error=str(exc))
            raise ServiceUnavailable("File storage is not available right now.") from None
        edge.__dict__["_delivery_storage"] = found
    return found


# --- tokens ----------------------------------------------------------------------------------

def _serializer(edge: "Edge") -> URLSafeTimedSerializer:
    """The edge's link serializer, built once per key list and clock (keys may rotate)."""
    clock = edge.clock
    # DOWNLOAD_SECRET_KEYS: the newest key signs, every listed key verifies (checkout/keyring.py)
    keys = tuple(keyring.download_keys(edge.settings))
    cached = edge.__dict__.get("_delivery_serializer")
    if cached is not None and cached[0] == keys and cached[1] is clock:
        return cached[2]

    class _ClockSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock())

    found = URLSafeTimedSerializer(list(keys), salt="digitaldock.download", signer=_ClockSigner)
    edge.__dict__["_delivery_serializer"] = (keys, clock, found)
    return found


@dataclass(frozen=True)
class Link:
    user_id: int
    purchase_id: int
    sha256: str
    link_id: str


def mint(edge: "Edge", user_id: int, purchase_id: int, sha256: str) -> str:
    """A fresh signed link token for a file of a purchase the user owns (checked first)."""
    purchase = _purchase(edge, purchase_id)
    if purchase is None or purchase["user_id"] != user_id:
        raise NotFound("You do not own that purchase.", code="purchase_not_found")
    if purchase["status"] != "active":
        raise PurchaseInactive()
    _file(edge, purchase, sha256)
    payload = {"u": user_id, "p": purchase_id, "f": sha256, "j": uuid.uuid4().hex}
    return str(_serializer(edge).dumps(payload))


def parse(edge: "Edge", token: str) -> Link:
    """The link inside `token`; raises InvalidToken (forged) or LinkExpired (too old)."""
    max_age = edge.settings.DOWNLOAD_LINK_HOURS * 3600
    try:
        data = _serializer(edge).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        link = _link(exc.payload if isinstance(exc.payload, dict) else None, edge, exc)
        raise LinkExpired(extra={"purchase_id": link.purchase_id, "sha256": link.sha256}) from None
    except (BadSignature, ValueError, TypeError):
        raise InvalidToken("This download link is not valid. Open your library to get a working one.") from None
    return _link(data, edge)


def _link(data: Any, edge: "Edge", exc: SignatureExpired | None = None) -> Link:
    if exc is not None and data is None:
        try:
            data = _serializer(edge).load_payload(exc.payload)
        except BadSignature:
            data = None
    try:
        return Link(int(data["u"]), int(data["p"]), str(data["f"]), str(data["j"]))
    except (TypeError, KeyError, ValueError):
        raise InvalidToken("This download link is not valid. Open your library to get a working one.") from None


# --- catalogue and purchases -----------------------------------------------------------------

def product(edge: "Edge", slug: str) -> dict[str, Any] | None:
    """The product as the catalogue lists it; a withdrawn one as last listed while its files are kept."""
    found = edge.catalog.current().products.get(slug)
    return found if found is not None else product_retention.withdrawn_product(edge, slug)


def _purchase(edge: "Edge", purchase_id: int) -> Any:
    return edge.db.execute("SELECT * FROM purchases WHERE id = ?", (purchase_id,)).fetchone()


def _file(edge: "Edge", purchase: Any, sha256: str) -> dict[str, Any]:
    prod = product(edge, purchase["product_slug"])
    for f in (prod or {}).get("files") or ():
        if f.get("sha256") == sha256:
            return f
    raise NotFound("That file is not part of a product you own.", code="file_not_owned")


def used(edge: "Edge", purchase_id: int, sha256: str) -> int:
    row = edge.db.execute("SELECT COUNT(*) FROM downloads WHERE purchase_id = ? AND file_sha256 = ? AND outcome = ?",
                          (purchase_id, sha256, STARTED)).fetchone()
    return int(row[0])


def library(edge: "Edge", user_id: int) -> list[dict[str, Any]]:
    """Every product the user bought, newest first, with files, versions and downloads left."""
    rows = edge.db.execute(
        "SELECT p.*, l.title AS line_title FROM purchases p LEFT JOIN order_lines l ON l.id = p.order_line_id"
        " WHERE p.user_id = ? ORDER BY p.created_at DESC, p.id DESC", (user_id,)).fetchall()
    counts: dict[tuple[int, str], int] = {}
    for r in edge.db.execute("SELECT purchase_id, file_sha256, COUNT(*) AS n FROM downloads WHERE user_id = ?"
                             " AND outcome = ? GROUP BY purchase_id, file_sha256", (user_id, STARTED)):
        counts[(r["purchase_id"], r["file_sha256"])] = r["n"]
    allowance = edge.settings.DOWNLOADS_PER_FILE
    items = []
    for r in rows:
        prod = product(edge, r["product_slug"]) or {}
        files = []
        for f in prod.get("files") or ():
            n = counts.get((r["id"], f["sha256"]), 0)
            files.append({**f, "used": n, "left": max(0, allowance - n)})
        items.append({"purchase_id": r["id"], "slug": r["product_slug"], "status": r["status"],
                      "title": prod.get("title") or r["line_title"] or r["product_slug"],
                      "version": prod.get("version", ""), "url": prod.get("url", ""),
                      "bought_at": r["created_at"], "files": files, "available": bool(prod)})
    return items


def history(edge: "Edge", user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    rows = edge.db.execute("SELECT * FROM downloads WHERE user_id = ? ORDER BY id DESC LIMIT ?",
                           (user_id, limit)).fetchall()
    return [dict(r) for r in rows]


def seller_counts(edge: "Edge", seller: str) -> dict[str, int]:
    """Started downloads per product of a catalogue seller."""
    rows = edge.db.execute("SELECT product_slug, COUNT(*) AS n FROM downloads WHERE seller = ? AND outcome = ?"
                           " GROUP BY product_slug", (seller, STARTED)).fetchall()
    return {r["product_slug"]: r["n"] for r in rows}


# --- redeeming a link ------------------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    key: str
    name: str
    size: int
    sha256: str
    counted: bool


# One read for every check of a redemption: the purchase, whether this link already started a
# download, the file's started downloads and the user's started downloads in the last hour.
_REDEEM_SQL = (
    "SELECT p.id, p.user_id, p.status, p.product_slug, p.seller,"
    " EXISTS(SELECT 1 FROM downloads WHERE link_id = :link AND outcome = :started) AS link_started,"
    " (SELECT COUNT(*) FROM downloads WHERE purchase_id = p.id AND file_sha256 = :sha"
    "  AND outcome = :started) AS file_used,"
    " (SELECT COUNT(*) FROM downloads WHERE user_id = :user AND outcome = :started AND at > :since) AS recent"
    " FROM purchases p WHERE p.id = :purchase")


def redeem(edge: "Edge", token: str, user_id: int, *, ip: str, user_agent: str,
           head: bool = False, ranged: bool = False) -> Grant:
    """Check a link for the signed-in user and record the download; see the module docstring.

    A HEAD is answered without counting; a `Range` request on a link that already started
    its download resumes it without counting; a Range request on a fresh link starts (and
    counts) like any other.

    The checks read everything in one query inside one short write transaction (BEGIN
    IMMEDIATE), which also inserts the `started` row, so concurrent redemptions cannot both
    pass a limit; refusals are recorded after it.
    """
    link = parse(edge, token)
    record = _recorder(edge, link, ip, user_agent)
    if link.user_id != user_id:
        record("other_user", None, "")
        raise Forbidden("This download link belongs to another account. Sign in with the account that bought it.",
                        code="not_your_link")
    since = iso(edge.clock() - 3600)
    refusal: tuple[str, Any, str, EdgeError] | None = None
    with atomic(edge.db):
        row = edge.db.execute(_REDEEM_SQL, {"link": link.link_id, "started": STARTED, "sha": link.sha256,
                                            "user": user_id, "since": since, "purchase": link.purchase_id}).fetchone()
        if row is None or row["user_id"] != user_id:
            refusal = ("not_owned", None, "", NotFound("You do not own that purchase.", code="purchase_not_found"))
        elif row["status"] != "active":
            refusal = ("purchase_inactive", row, "", PurchaseInactive())
        else:
            try:
                f = _file(edge, row, link.sha256)
            except NotFound as exc:
                refusal = ("file_not_owned", row, "", exc)
            else:
                grant = Grant(str(f["key"]), str(f["name"]), int(f["size"]), link.sha256, False)
                if head or (row["link_started"] and ranged):
                    # Headers only, or resuming a download this link started: not counted again.
                    return grant
                if row["link_started"]:
                    refusal = ("link_used", row, f["name"],
                               LinkUsed(extra={"purchase_id": link.purchase_id, "sha256": link.sha256}))
                else:
                    found = _limits(edge, user_id, f["name"], row["file_used"], row["recent"], since)
                    if found is not None:
                        refusal = (found[0], row, f["name"], found[1])
                    else:
                        record(STARTED, row, f["name"])
    if refusal is not None:
        record(refusal[0], refusal[1], refusal[2])
        raise refusal[3]
    return Grant(grant.key, grant.name, grant.size, grant.sha256, True)


def _limits(edge: "Edge", user_id: int, name: str, used_n: int, recent: int,
            since: str) -> tuple[str, EdgeError] | None:
    allowance = edge.settings.DOWNLOADS_PER_FILE
    if used_n >= allowance:
        return "download_limit", DownloadLimit(f"You have used all {allowance} downloads of {name} for this "
                                               "purchase. Contact support if you need more.")
    if recent >= edge.settings.DOWNLOADS_PER_HOUR:
        first = edge.db.execute("SELECT MIN(at) FROM downloads WHERE user_id = ? AND outcome = ? AND at > ?",
                                (user_id, STARTED, since)).fetchone()[0]
        retry = max(1, int(parse_iso(first) + 3600 - edge.clock()) + 1)
        return "rate_limited", RateLimited(f"You can start {edge.settings.DOWNLOADS_PER_HOUR} downloads per hour. "
                                           "Please try again later.", headers={"Retry-After": str(retry)})
    return None


def _recorder(edge: "Edge", link: Link, ip: str, user_agent: str):
    def record(outcome: str, purchase: Any, file_name: str) -> None:
        edge.db.execute(
            "INSERT INTO downloads (user_id, purchase_id, product_slug, seller, file_name, file_sha256, link_id,"
            " at, ip, user_agent, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (link.user_id if outcome != "other_user" else None,
             purchase["id"] if purchase is not None else None,
             purchase["product_slug"] if purchase is not None else "",
             purchase["seller"] if purchase is not None else "", file_name, link.sha256,
             link.link_id, edge.clock.iso(), ip, (user_agent or "")[:300], outcome))
        log.info("download", outcome=outcome, purchase_id=link.purchase_id, file=link.sha256[:12])
    return record


# --- new versions and the daily check ----------------------------------------------------------

def _files_hash(prod: dict[str, Any]) -> str:
    shas = sorted(str(f.get("sha256")) for f in prod.get("files") or ())
    return hashlib.sha256(json.dumps(shas).encode()).hexdigest()


def notify_new_versions(edge: "Edge") -> int:
    """Email the owners of every product whose version or files changed since last seen.

    The first sighting of a product only records it. Returns the number of emails queued.
    """
    products = edge.catalog.current().products
    seen = {r["product_slug"]: r for r in edge.db.execute("SELECT * FROM product_versions")}
    queued = 0
    for slug, prod in sorted(products.items()):
        version, fh = str(prod.get("version", "")), _files_hash(prod)
        old = seen.get(slug)
        if old is not None and old["version"] == version and old["files_hash"] == fh:
            continue
        with atomic(edge.db):
            edge.db.execute("INSERT INTO product_versions (product_slug, version, files_hash, seen_at) VALUES (?,?,?,?)"
                            " ON CONFLICT(product_slug) DO UPDATE SET version = excluded.version,"
                            " files_hash = excluded.files_hash, seen_at = excluded.seen_at",
                            (slug, version, fh, edge.clock.iso()))
            if old is None:
                continue
            owners = edge.db.execute(
                "SELECT DISTINCT u.id, u.email, u.display_name FROM purchases p JOIN users u ON u.id = p.user_id"
                " WHERE p.product_slug = ? AND p.status = 'active' AND u.anonymised_at IS NULL", (slug,)).fetchall()
            for u in owners:
                outbox.enqueue(edge, "new_version", u["email"], u["id"], name=u["display_name"],
                               title=prod.get("title", slug), version=version,
                               link=f"{edge.settings.CHECKOUT_URL}/library")
                queued += 1
    return queued


def forget_download_addresses(edge: "Edge", now: float) -> dict[str, int]:
    """Retention: after LOG_RETENTION_DAYS a download row keeps what, when and the outcome, and
    loses the IP address and user agent (personal data the counts do not need)."""
    cutoff = iso(now - edge.settings.LOG_RETENTION_DAYS * 86400)
    cur = edge.db.execute("UPDATE downloads SET ip = NULL, user_agent = NULL WHERE at < ?"
                          " AND (ip IS NOT NULL OR user_agent IS NOT NULL)", (cutoff,))
    return {"download_addresses_cleared": cur.rowcount}


gdpr.RETENTION_HOOKS.append(forget_download_addresses)


def check(edge: "Edge") -> list[str]:
    """Problems a person must look at: paid orders without a working download, missing files."""
    problems: list[str] = []
    products = edge.catalog.current().products
    store = storage(edge)
    missing: dict[str, bool] = {}
    orders = edge.db.execute("SELECT id, reference FROM orders WHERE status = 'paid' ORDER BY id").fetchall()
    for order in orders:
        purchases = edge.db.execute("SELECT * FROM purchases WHERE order_id = ? AND status = 'active'",
                                    (order["id"],)).fetchall()
        working = False
        for p in purchases:
            prod = products.get(p["product_slug"]) or product_retention.withdrawn_product(edge, p["product_slug"])
            if prod is None:
                problems.append(f"order {order['reference']}: purchase {p['id']} ({p['product_slug']}) "
                                "is not in the catalogue")
                continue
            for f in prod.get("files") or ():
                key = str(f.get("key"))
                if key not in missing:
                    try:
                        missing[key] = store.stat(key) is None
                    except StorageError as exc:
                        problems.append(f"storage: {exc}")
                        return problems
                if missing[key]:
                    problems.append(f"order {order['reference']}: purchase {p['id']} ({p['product_slug']}) "
                                    f"file {f.get('name')} is missing from storage ({key})")
                else:
                    working = True
        if not working:
            problems.append(f"order {order['reference']}: paid but the buyer has no working download")
    return problems
