"""Signed, expiring, counted download links.

A link is minted on demand from the library for one user, one purchase and one file (by its
SHA-256), signed with itsdangerous and valid DOWNLOAD_LINK_HOURS. Redeeming it (`redeem`)
checks, in this order: signature (forged -> `invalid_token`), age (expired -> `LinkExpired`,
whose page offers a fresh link in one click), the signed-in user (another user's link ->
`forbidden`), the purchase (refunded or revoked -> `purchase_inactive`), the file (not part of
the product -> `file_not_owned`), whether the link already started a download (a replay ->
`LinkUsed`, unless it resumes, see below), the per-file allowance (DOWNLOADS_PER_FILE ->
`download_limit`) and the per-user hourly limit (DOWNLOADS_PER_HOUR -> `rate_limited`). Each
attempt with a valid signature is written to `downloads` with its outcome; only `started` rows
count. The counting and the insert happen in one transaction and a unique index allows one
start per link, so concurrent replays cannot both win.

Resuming: a link that started its download may be asked for the rest of it, uncounted (a
`resumed` row), for DOWNLOAD_RESUME_MINUTES after the start, and only with a range that does not
start at byte 0 (`ranges.ByteRange.resumes`). A range from byte 0 asks for the whole file
again, and a Range header that is not one strict `bytes=N-[M]` is read as no range at all: both
are a new download, so on a used link they are a replay (`LinkUsed`) and on a fresh link they
start and count. Before this rule any Range request on a used link was free, and `bytes=0-`
fetched the whole file again and again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from checkout.core import keyring
from checkout.core.clock import iso, parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import EdgeError, Forbidden, InvalidToken, NotFound, RateLimited
from checkout.delivery.errors import DownloadLimit, LinkExpired, LinkUsed, PurchaseInactive
from checkout.delivery.library import STARTED, _file, _purchase, order_of_purchase
from checkout.delivery.ranges import ByteRange

log = structlog.get_logger("checkout.delivery.links")

RESUMED = "resumed"  # a logged continuation of a started download; never counted


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


def mint_for_order(edge: "Edge", order: dict[str, Any], purchase_id: int, sha256: str) -> str:
    """A fresh link for a file of a purchase of `order`, minted for the order's account: the
    thank-you page and the receipt email's order page, which a guest opens without a password."""
    purchase = _purchase(edge, purchase_id)
    if purchase is None or purchase["order_id"] != order["id"]:
        raise NotFound("That purchase is not part of this order.", code="purchase_not_found")
    return mint(edge, int(order["user_id"]), purchase_id, sha256)


def holder(edge: "Edge", token: str) -> tuple[int, str | None]:
    """(the account a genuine link was minted for, the reference of its purchase's order). Raises
    what `parse` raises; the web layer lets a browser that holds the order redeem it as a guest."""
    try:
        link = parse(edge, token)
    except LinkExpired as exc:  # still genuine: its page offers the holder a fresh link
        return 0, order_of_purchase(edge, int(exc.extra["purchase_id"]))
    return link.user_id, order_of_purchase(edge, link.purchase_id)


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


@dataclass(frozen=True)
class Grant:
    key: str
    name: str
    size: int
    sha256: str
    counted: bool
    purchase_id: int = 0


# One read for every check of a redemption: the purchase, whether this link already started a
# download, the file's started downloads and the user's started downloads in the last hour.
_REDEEM_SQL = (
    "SELECT p.id, p.user_id, p.status, p.product_slug, p.seller,"
    " (SELECT at FROM downloads WHERE link_id = :link AND outcome = :started) AS link_started_at,"
    " (SELECT COUNT(*) FROM downloads WHERE purchase_id = p.id AND file_sha256 = :sha"
    "  AND outcome = :started) AS file_used,"
    " (SELECT COUNT(*) FROM downloads WHERE user_id = :user AND outcome = :started AND at > :since) AS recent"
    " FROM purchases p WHERE p.id = :purchase")


def redeem(edge: "Edge", token: str, user_id: int, *, ip: str, user_agent: str,
           head: bool = False, resume: ByteRange | None = None) -> Grant:
    """Check a link for the signed-in user and record the download; see the module docstring.

    A HEAD is answered without counting. `resume`: the request's strictly parsed range, given
    only when the caller serves exactly that range (local streaming, not a presigned URL that
    would hand out the whole file); it continues a download this link started a moment ago
    without counting. Anything else on a fresh link starts (and counts) a download.

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
                grant = Grant(f.key, f.name, f.size, link.sha256, False, link.purchase_id)
                if head:  # headers only
                    return grant
                if _resumes(edge, row["link_started_at"], resume):
                    record(RESUMED, row, f.name)
                    return grant
                if row["link_started_at"] is not None:
                    refusal = ("link_used", row, f.name,
                               LinkUsed(extra={"purchase_id": link.purchase_id, "sha256": link.sha256}))
                else:
                    found = _limits(edge, user_id, f.name, row["file_used"], row["recent"], since)
                    if found is not None:
                        refusal = (found[0], row, f.name, found[1])
                    else:
                        record(STARTED, row, f.name)
    if refusal is not None:
        record(refusal[0], refusal[1], refusal[2])
        raise refusal[3]
    return Grant(grant.key, grant.name, grant.size, grant.sha256, True, link.purchase_id)


def _resumes(edge: "Edge", started_at: str | None, resume: ByteRange | None) -> bool:
    """Whether this request continues the download its link started (see the module docstring)."""
    if started_at is None or resume is None or not resume.resumes:
        return False
    window = edge.settings.DOWNLOAD_RESUME_MINUTES * 60
    return window > 0 and edge.clock() - parse_iso(started_at) <= window


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
