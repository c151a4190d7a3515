"""Writing, changing and moderating reviews. Plain functions taking the `Edge`.

Who may review: an account with a purchase of the product that is not refunded or revoked
(a guest who claimed the account their checkout made is such an account). One review per
buyer and product; the author edits or deletes it, nobody else does. Admins approve or hide
(a reason, kept in the audit log); any signed-in account reports one; the seller of the product
replies once, publicly.

Moderation (REVIEW_MODERATION): `auto`, the default, holds a review for an admin when its title
or text contains a link (the usual spam) or its author's account is younger than a day (the
usual sock puppet); every other review is visible at once. `all` holds every one, `none` none.
An edit is judged again, so an approved review cannot become a link farm afterwards.

What counts: approved reviews whose author still owns the product. A refund takes the review
out of the stars and the public list without deleting it; buying again brings it back.
"""

from __future__ import annotations

import re
from typing import Any

import structlog

from checkout.core import audit, outbox, signals
from checkout.core.clock import parse_iso
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, NotFound, ValidationFailed
from checkout.payments import payouts
from checkout.reviews.errors import AlreadyReviewed, NotABuyer, NotYours

log = structlog.get_logger("checkout.reviews")

MAX_TITLE = 120
MAX_BODY = 5000
MAX_REASON = 2000
SORTS = {  # sort name → ORDER BY over `reviews r`
    "newest": "r.created_at DESC, r.id DESC",
    "highest": "r.rating DESC, r.created_at DESC, r.id DESC",
    "lowest": "r.rating ASC, r.created_at DESC, r.id DESC",
    "helpful": "r.helpful DESC, r.created_at DESC, r.id DESC",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_LINK = re.compile(r"(https?:|ftp:|mailto:|www\.|<\s*a\b|\]\s*\(|\b[a-z0-9-]+\.(com|net|org|io|ru|xyz|top|info)\b)",
                   re.IGNORECASE)
# counted: approved, and the author still owns the product (a refund takes it out)


def counted(alias: str = "r") -> str:
    """SQL: the review `alias` counts (approved, and its author still owns the product)."""
    return (f"{alias}.status = 'approved' AND EXISTS (SELECT 1 FROM purchases p WHERE p.user_id = {alias}.user_id"
            f" AND p.product_slug = {alias}.product_slug AND p.status = 'active')")


COUNTED = counted()


def _text(value: Any, field: str, limit: int, multiline: bool) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(fields={field: "must be text"})
    text = value.replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise ValidationFailed(fields={field: f"must be at most {limit:,} characters (it has {len(text):,})"})
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\t" in text or "\r" in text)):
        raise ValidationFailed(fields={field: "must not contain control characters"})
    return text


def check_rating(value: Any) -> int:
    """1 to 5 from a JSON number or a form's text; 422 naming `rating` for anything else."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == 1:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise ValidationFailed(fields={"rating": "must be a whole number of stars from 1 to 5"})
    return value


def check_fields(rating: Any, title: Any, body: Any) -> tuple[int, str, str]:
    """Every field checked at once, each problem named."""
    problems: dict[str, str] = {}
    out: list[Any] = []
    for check in (lambda: check_rating(rating), lambda: _text(title, "title", MAX_TITLE, False),
                  lambda: _text(body, "body", MAX_BODY, True)):
        try:
            out.append(check())
        except ValidationFailed as exc:
            problems.update(exc.fields)
            out.append(None)
    if problems:
        raise ValidationFailed(fields=problems)
    return out[0], out[1], out[2]


def owns(edge: Edge, user_id: int, slug: str) -> bool:
    """Whether the account has a purchase of the product that is not refunded or revoked."""
    return edge.db.execute("SELECT 1 FROM purchases WHERE user_id = ? AND product_slug = ? AND status = 'active'",
                           (user_id, slug)).fetchone() is not None


def held_reason(edge: Edge, user: Any, title: str, body: str) -> str | None:
    """Why this review waits for an admin (REVIEW_MODERATION), or None: visible at once."""
    mode = edge.settings.REVIEW_MODERATION
    if mode == "none":
        return None
    if mode == "all":
        return "every review is checked first"
    if _LINK.search(title) or _LINK.search(body):
        return "the text contains a link"
    if edge.clock() - parse_iso(user["created_at"]) < 86400:
        return "the account is younger than a day"
    return None


def _product(edge: Edge, slug: Any) -> Any:
    found = edge.catalog.current().products.get(slug) if isinstance(slug, str) else None
    if found is None:
        raise NotFound("No product is listed at this address.", fields={"product": "is not a listed product"})
    return found


def _published(edge: Edge, review_id: int) -> None:
    """Tell the product's seller (the `review` webhook event) that a review is visible. Call in the transaction."""
    r = edge.db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
    signals.emit(edge, "review", {"seller": r["seller"], "review_id": r["id"], "product_slug": r["product_slug"],
                                  "rating": r["rating"], "title": r["title"], "body": r["body"],
                                  "created_at": r["created_at"], "updated_at": r["updated_at"]})


def get(edge: Edge, review_id: int) -> dict[str, Any]:
    row = edge.db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
    if row is None:
        raise NotFound("No review has this id.")
    return dict(row)


def mine(edge: Edge, user_id: int, slug: str) -> dict[str, Any] | None:
    row = edge.db.execute("SELECT * FROM reviews WHERE user_id = ? AND product_slug = ?", (user_id, slug)).fetchone()
    return dict(row) if row else None


def create(edge: Edge, user: Any, slug: Any, rating: Any, title: Any, body: Any, ip: str | None = None
           ) -> dict[str, Any]:
    """A buyer's review of a product they own; pending or approved as moderation says."""
    rating, title, body = check_fields(rating, title, body)
    product = _product(edge, slug)
    if not owns(edge, user["id"], product.slug):
        raise NotABuyer()
    if mine(edge, user["id"], product.slug):
        raise AlreadyReviewed()
    edge.hit("REVIEW_LIMIT", "user", str(user["id"]))
    why = held_reason(edge, user, title, body)
    now = edge.clock.iso()
    with atomic(edge.db):
        cur = edge.db.execute(
            "INSERT INTO reviews (user_id, product_slug, seller, rating, title, body, status, held_reason,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (user["id"], product.slug, product.seller, rating, title, body, "pending" if why else "approved", why,
             now, now))
        review_id = int(cur.lastrowid)
        if not why:
            _published(edge, review_id)
        audit.record(edge, "review.created", actor_id=user["id"], subject_id=user["id"], ip=ip, review=review_id,
                     product=product.slug, rating=rating, held=why)
    log.info("review_created", id=review_id, product=product.slug, held=bool(why))
    return get(edge, review_id)


def edit(edge: Edge, user: Any, review_id: int, rating: Any, title: Any, body: Any, ip: str | None = None
         ) -> dict[str, Any]:
    """The author changes their review; it is judged by moderation again."""
    review = get(edge, review_id)
    if review["user_id"] != user["id"]:
        raise NotYours()
    rating, title, body = check_fields(rating, title, body)
    if not owns(edge, user["id"], review["product_slug"]):
        raise NotABuyer()
    edge.hit("REVIEW_LIMIT", "user", str(user["id"]))
    why = held_reason(edge, user, title, body)
    status = "pending" if why or review["status"] == "hidden" else "approved"
    with atomic(edge.db):
        edge.db.execute("UPDATE reviews SET rating = ?, title = ?, body = ?, status = ?, held_reason = ?,"
                        " updated_at = ? WHERE id = ?",
                        (rating, title, body, status, why or ("edited after it was hidden" if status == "pending"
                                                              else None), edge.clock.iso(), review_id))
        if status == "approved":
            _published(edge, review_id)
        audit.record(edge, "review.edited", actor_id=user["id"], subject_id=user["id"], ip=ip, review=review_id,
                     product=review["product_slug"], rating=rating)
    return get(edge, review_id)


def delete(edge: Edge, user: Any, review_id: int, ip: str | None = None) -> None:
    """The author removes their review (votes and reports go with it)."""
    review = get(edge, review_id)
    if review["user_id"] != user["id"]:
        raise NotYours()
    with atomic(edge.db):
        edge.db.execute("DELETE FROM reviews WHERE id = ?", (review_id,))
        audit.record(edge, "review.deleted", actor_id=user["id"], subject_id=user["id"], ip=ip, review=review_id,
                     product=review["product_slug"])


def approve(edge: Edge, admin: Any, review_id: int, ip: str | None = None) -> dict[str, Any]:
    """An admin makes a pending (or hidden) review visible; its open reports are dismissed."""
    review = get(edge, review_id)
    now = edge.clock.iso()
    with atomic(edge.db):
        edge.db.execute("UPDATE reviews SET status = 'approved', held_reason = NULL, hidden_reason = NULL,"
                        " decided_at = ?, decided_by = ? WHERE id = ?", (now, admin["id"], review_id))
        edge.db.execute("UPDATE review_reports SET status = 'dismissed', decided_at = ?, decided_by = ?"
                        " WHERE review_id = ? AND status = 'open'", (now, admin["id"], review_id))
        if review["status"] != "approved":
            _published(edge, review_id)
        audit.record(edge, "review.approved", actor_id=admin["id"], subject_id=review["user_id"], ip=ip,
                     review=review_id, product=review["product_slug"], was=review["status"])
    return get(edge, review_id)


def hide(edge: Edge, admin: Any, review_id: int, reason: Any, ip: str | None = None) -> dict[str, Any]:
    """An admin hides a review, with a reason kept in the audit log and told to its author."""
    reason = _text(reason, "reason", MAX_REASON, True)
    if len(reason) < 3:
        raise ValidationFailed(fields={"reason": "Say why the review is hidden, in 3 to 2,000 characters."})
    review = get(edge, review_id)
    now = edge.clock.iso()
    author = edge.db.execute("SELECT email, display_name, anonymised_at FROM users WHERE id = ?",
                             (review["user_id"],)).fetchone()
    with atomic(edge.db):
        edge.db.execute("UPDATE reviews SET status = 'hidden', hidden_reason = ?, decided_at = ?, decided_by = ?"
                        " WHERE id = ?", (reason, now, admin["id"], review_id))
        edge.db.execute("UPDATE review_reports SET status = 'upheld', decided_at = ?, decided_by = ?"
                        " WHERE review_id = ? AND status = 'open'", (now, admin["id"], review_id))
        audit.record(edge, "review.hidden", actor_id=admin["id"], subject_id=review["user_id"], ip=ip,
                     review=review_id, product=review["product_slug"], reason=reason)
        if author and not author["anonymised_at"]:
            outbox.enqueue(edge, "review_hidden", author["email"], review["user_id"], name=author["display_name"],
                           product=review["product_slug"], reason=reason)
    return get(edge, review_id)


def report(edge: Edge, user: Any, review_id: int, reason: Any, ip: str | None = None) -> None:
    """Any signed-in account reports a visible review to the admins (once while it is open)."""
    reason = _text(reason, "reason", MAX_REASON, True)
    if len(reason) < 3:
        raise ValidationFailed(fields={"reason": "Tell the moderators what is wrong, in 3 to 2,000 characters."})
    review = get(edge, review_id)
    if review["status"] != "approved":
        raise NotFound("No review has this id.")
    edge.hit("REVIEW_LIMIT", "user", str(user["id"]))
    with atomic(edge.db):
        if edge.db.execute("SELECT 1 FROM review_reports WHERE review_id = ? AND user_id = ? AND status = 'open'",
                           (review_id, user["id"])).fetchone():
            return
        edge.db.execute("INSERT INTO review_reports (review_id, user_id, reason, created_at) VALUES (?,?,?,?)",
                        (review_id, user["id"], reason, edge.clock.iso()))
        audit.record(edge, "review.reported", actor_id=user["id"], subject_id=review["user_id"], ip=ip,
                     review=review_id, product=review["product_slug"])


def reply(edge: Edge, user: Any, review_id: int, text: Any, ip: str | None = None) -> dict[str, Any]:
    """The product's seller answers a review publicly, once."""
    text = _text(text, "reply", MAX_BODY, True)
    if not text:
        raise ValidationFailed(fields={"reply": "Write your reply."})
    review = get(edge, review_id)
    if review["seller"] not in payouts.sellers_of(edge, user["id"]):
        raise NotYours("Only the seller of this product can reply to its reviews.")
    if review["reply"] is not None:
        raise Conflict("This review already has the seller's reply.", code="already_replied")
    edge.hit("REVIEW_LIMIT", "user", str(user["id"]))
    with atomic(edge.db):
        edge.db.execute("UPDATE reviews SET reply = ?, replied_at = ?, replied_by = ? WHERE id = ?",
                        (text, edge.clock.iso(), user["id"], review_id))
        audit.record(edge, "review.replied", actor_id=user["id"], subject_id=review["user_id"], ip=ip,
                     review=review_id, product=review["product_slug"])
    return get(edge, review_id)


def vote_helpful(edge: Edge, user: Any, review_id: int) -> int:
    """One "helpful" per account and review (not on one's own); returns the new count."""
    review = get(edge, review_id)
    if review["status"] != "approved":
        raise NotFound("No review has this id.")
    if review["user_id"] == user["id"]:
        raise NotYours("You cannot vote for your own review.")
    edge.hit("REVIEW_LIMIT", "user", str(user["id"]))
    with atomic(edge.db):
        cur = edge.db.execute("INSERT OR IGNORE INTO review_votes (review_id, user_id, created_at) VALUES (?,?,?)",
                              (review_id, user["id"], edge.clock.iso()))
        if cur.rowcount:
            edge.db.execute("UPDATE reviews SET helpful = helpful + 1 WHERE id = ?", (review_id,))
    return int(edge.db.execute("SELECT helpful FROM reviews WHERE id = ?", (review_id,)).fetchone()[0])


# --- reading --------------------------------------------------------------------------------------

def public(row: Any) -> dict[str, Any]:
    """A review as anyone may see it: the author's display name, never their email."""
    return {"id": row["id"], "product": row["product_slug"], "rating": row["rating"], "title": row["title"],
            "body": row["body"], "author": row["author"], "created_at": row["created_at"],
            "updated_at": row["updated_at"], "helpful": row["helpful"], "reply": row["reply"],
            "replied_at": row["replied_at"]}


def own(row: dict[str, Any], author: str) -> dict[str, Any]:
    """A review as its author sees it: with its moderation state."""
    return {**public({**row, "author": author}), "status": row["status"], "held_reason": row["held_reason"],
            "hidden_reason": row["hidden_reason"]}


def listing(edge: Edge, slug: str, sort: str = "newest", page: int = 1, per_page: int = 20
            ) -> tuple[list[dict[str, Any]], int]:
    """One page of a product's counted reviews, and how many there are."""
    order = SORTS[sort]
    total = int(edge.db.execute(f"SELECT COUNT(*) FROM reviews r WHERE r.product_slug = ? AND {COUNTED}",
                                (slug,)).fetchone()[0])
    rows = edge.db.execute(
        f"SELECT r.*, u.display_name AS author FROM reviews r JOIN users u ON u.id = r.user_id"
        f" WHERE r.product_slug = ? AND {COUNTED} ORDER BY {order} LIMIT ? OFFSET ?",
        (slug, per_page, (page - 1) * per_page)).fetchall()
    return [public(r) for r in rows], total


def by_author(edge: Edge, user_id: int) -> list[dict[str, Any]]:
    """Every review an account wrote, newest first, with its moderation state (for the API)."""
    rows = edge.db.execute("SELECT r.*, u.display_name AS author FROM reviews r JOIN users u ON u.id = r.user_id"
                           " WHERE r.user_id = ? ORDER BY r.created_at DESC, r.id DESC", (user_id,)).fetchall()
    return [own(dict(r), r["author"]) for r in rows]


def of_sellers(edge: Edge, sellers: list[str], slug: str | None = None) -> list[dict[str, Any]]:
    """The visible (approved) reviews of the products of these sellers, newest first (for the API)."""
    if not sellers:
        return []
    marks = ",".join("?" * len(sellers))
    extra, args = (" AND r.product_slug = ?", [slug]) if slug else ("", [])
    rows = edge.db.execute(f"SELECT r.*, u.display_name AS author FROM reviews r JOIN users u ON u.id = r.user_id"
                           f" WHERE r.seller IN ({marks}) AND r.status = 'approved'{extra}"
                           " ORDER BY r.created_at DESC, r.id DESC LIMIT 1000", [*sellers, *args]).fetchall()
    return [public(r) for r in rows]


def aggregate(edge: Edge, slug: str) -> dict[str, Any]:
    """Count, average (one decimal, half up) and histogram of a product's counted reviews."""
    hist = [0] * 5
    for rating, n in edge.db.execute(f"SELECT r.rating, COUNT(*) FROM reviews r WHERE r.product_slug = ?"
                                     f" AND {COUNTED} GROUP BY r.rating", (slug,)):
        hist[rating - 1] = n
    count, total = sum(hist), sum(n * (i + 1) for i, n in enumerate(hist))
    tenths = (total * 20 + count) // (2 * count) if count else 0
    return {"count": count, "average": f"{tenths // 10}.{tenths % 10}" if count else None, "histogram": hist}


def moderation_queue(edge: Edge) -> dict[str, Any]:
    """`hooks.moderation_queues`' "reviews": reviews held for approval and reviews reported."""
    rows = edge.db.execute(
        "SELECT r.id, r.product_slug, r.rating, r.status, r.held_reason,"
        " (SELECT COUNT(*) FROM review_reports x WHERE x.review_id = r.id AND x.status = 'open') AS reports"
        " FROM reviews r WHERE r.status = 'pending' OR EXISTS (SELECT 1 FROM review_reports x"
        " WHERE x.review_id = r.id AND x.status = 'open') ORDER BY r.id LIMIT 200").fetchall()
    items = [{"summary": f"{r['product_slug']}: {r['rating']}★ review #{r['id']}, "
                         + (f"held ({r['held_reason']})" if r["status"] == "pending" else "")
                         + (f"{', ' if r['status'] == 'pending' else ''}reported {r['reports']}×" if r["reports"] else ""),
              "link": f"/admin/reviews/{r['id']}"} for r in rows]
    return {"title": "Reviews waiting or reported", "count": len(items), "link": "/admin/moderation#reviews-queue",
            "items": items}
