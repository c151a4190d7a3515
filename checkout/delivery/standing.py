"""What an account's standing means for the storefront, and the moderation queue's other items.

- A **ban** (`checkout.accounts.standing.ban`: sign-in refused, sessions and API tokens ended)
  also suspends the account's catalogue sellers in the content (`suspended: true`), so their
  products and pages leave the storefront on the next build, and holds their payouts
  (`checkout.payments.payouts` skips a banned seller). Unbanning reverses both. Buyers keep
  what they bought from a banned seller: the library serves products that left the catalogue.
- **Verifying** a seller sets `verified: true` on its catalogue sellers: the storefront's badge.
- **Reports**: a signed-in buyer reports a product from its page with a reason; an admin
  dismisses the report or unlists the product, always giving a reason (emailed to the seller
  when the product is unlisted).
- **Claims**: a new seller whose name is an unclaimed catalogue seller's asks to manage it; an
  admin approves (the account is linked) or rejects with a reason.
- **A seller's own seller**: signing up as a seller reserves a catalogue seller for the account
  (or files a claim), so the seller dashboard, earnings and statement work from the first day.

Database first, content second: the account's state changes in one transaction, then the
content is written; if the content write fails the ban still holds and the error is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from checkout.accounts import standing as accounts_standing
from checkout.core import audit, outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, EdgeError, NotFound, ValidationFailed
from checkout.delivery import approval, content, slugs
from checkout.delivery.content import Change

log = structlog.get_logger("checkout.delivery.standing")

REPORT_REASONS = {
    "infringement": "It copies someone else's work (copyright or trademark)",
    "malware": "The files are harmful or not what is described",
    "illegal": "It is illegal or breaks the content guidelines",
    "misleading": "The description is misleading",
    "other": "Something else",
}
DETAILS_LEN = 2000


@dataclass
class Outcome:
    """What a console action did, in words for the admin, and the content change if any."""

    said: str
    change: Change | None = None


def sellers_of(edge: "Edge", user_id: int) -> list[str]:
    return [r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ?"
                                          " ORDER BY seller_slug", (user_id,))]


def _content_step(edge: "Edge", user_id: int, actor: Any | None, done: str, why: str, **flags: bool) -> Outcome:
    slugs_ = sellers_of(edge, user_id)
    try:
        change = content.set_seller_flags(edge, slugs_, why, **flags)
    except EdgeError as exc:
        log.error("standing_content_failed", user=user_id, error=exc.message)
        return Outcome(f"{done} The storefront was not changed: {exc.message}")
    if change is not None:
        with atomic(edge.db):
            audit.record(edge, "admin.content_change", actor_id=actor["id"] if actor is not None else None,
                         subject_id=user_id, by=accounts_standing.actor_name(actor), sellers=slugs_, where=change.where,
                         **{k: v for k, v in flags.items()})
        return Outcome(change.said(done), change)
    return Outcome(done)


def ban(edge: "Edge", user_id: int, actor: Any | None, reason: str, ip: str | None = None) -> Outcome:
    target = accounts_standing.ban(edge, user_id, actor, reason, ip)
    held = sellers_of(edge, user_id)
    done = f"{target['email']} is banned: signed out everywhere" + (
        f"; payouts of {', '.join(held)} are held and its products are unlisted." if held else ".")
    return _content_step(edge, user_id, actor, done, f"Suspend the seller pages of a banned account: {reason}",
                         suspended=True)


def unban(edge: "Edge", user_id: int, actor: Any | None, reason: str, ip: str | None = None) -> Outcome:
    target = accounts_standing.unban(edge, user_id, actor, reason, ip)
    done = f"{target['email']} may sign in again; payouts resume."
    return _content_step(edge, user_id, actor, done, f"Restore the seller pages of an unbanned account: {reason}",
                         suspended=False)


def set_verified(edge: "Edge", user_id: int, actor: Any | None, verified: bool, reason: str = "",
                 ip: str | None = None) -> Outcome:
    target = accounts_standing.set_verified(edge, user_id, actor, verified, reason, ip)
    done = f"{target['email']} is {'now a verified seller' if verified else 'no longer verified'}."
    return _content_step(edge, user_id, actor, done, f"{'Verify' if verified else 'Unverify'} the seller pages of "
                         f"{target['display_name']}", verified=verified)


# --- reports of products ------------------------------------------------------------------------

def file_report(edge: "Edge", user: Any, slug: str, reason: str, details: str, ip: str | None = None) -> int:
    """A buyer's report of a listed product; one open report per buyer and product."""
    problems = {}
    product = edge.catalog.current().products.get(slug)
    if product is None:
        raise NotFound("No product is listed at this address.")
    if reason not in REPORT_REASONS:
        problems["reason"] = "Choose what is wrong."
    details = (details or "").strip()
    if len(details) > DETAILS_LEN:
        problems["details"] = f"Tell us in at most {DETAILS_LEN:,} characters."
    elif reason == "other" and len(details) < 10:
        problems["details"] = "Tell us what is wrong, in at least 10 characters."
    if problems:
        raise ValidationFailed(fields=problems)
    if edge.db.execute("SELECT 1 FROM product_reports WHERE user_id = ? AND product_slug = ? AND status = 'open'",
                       (user["id"], slug)).fetchone():
        raise Conflict("You reported this product already; an administrator is looking at it.", code="already_reported")
    with atomic(edge.db):
        cur = edge.db.execute("INSERT INTO product_reports (product_slug, seller, user_id, reason, details, created_at)"
                              " VALUES (?,?,?,?,?,?)", (slug, product.seller, user["id"], reason, details,
                                                        edge.clock.iso()))
        audit.record(edge, "moderation.report_filed", actor_id=user["id"], subject_id=user["id"], ip=ip,
                     product=slug, reason=reason)
    return int(cur.lastrowid)


def open_reports(edge: "Edge", limit: int = 200) -> list[dict[str, Any]]:
    rows = edge.db.execute(
        "SELECT r.*, u.email AS reporter FROM product_reports r LEFT JOIN users u ON u.id = r.user_id"
        " WHERE r.status = 'open' ORDER BY r.id LIMIT ?", (limit,)).fetchall()
    return [{**dict(r), "reason_text": REPORT_REASONS.get(r["reason"], r["reason"])} for r in rows]


def decide_report(edge: "Edge", report_id: int, actor: Any, action: str, reason: str,
                  ip: str | None = None) -> Outcome:
    """Dismiss a report or unlist its product (every open report of the product is closed with
    it); both need a reason: the reporter's word is being judged, and a seller loses a listing."""
    reason = accounts_standing.check_reason(reason)
    if action not in ("dismiss", "unlist"):
        raise ValidationFailed(fields={"action": "Choose dismiss or unlist."})
    report = edge.db.execute("SELECT * FROM product_reports WHERE id = ?", (report_id,)).fetchone()
    if report is None:
        raise NotFound("No such report.")
    if report["status"] != "open":
        raise Conflict(f"This report was already decided ({report['status']}).")
    change = None
    if action == "unlist":
        change = content.set_product_status(edge, report["product_slug"], "withdrawn",
                                            f"Unlist {report['product_slug']} after a report: {reason}")
    status = "unlisted" if action == "unlist" else "dismissed"
    with atomic(edge.db):
        ids = [report_id] if action == "dismiss" else [r[0] for r in edge.db.execute(
            "SELECT id FROM product_reports WHERE product_slug = ? AND status = 'open'", (report["product_slug"],))]
        edge.db.execute(f"UPDATE product_reports SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?"
                        f" WHERE id IN ({', '.join('?' * len(ids))})",
                        (status, edge.clock.iso(), actor["id"], reason, *ids))
        audit.record(edge, "moderation.report_decided", actor_id=actor["id"], ip=ip,
                     by=accounts_standing.actor_name(actor), report=report_id, product=report["product_slug"],
                     decision=status, reason=reason, where=change.where if change else None)
        if action == "unlist":
            for seller_user in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                               " ON u.id = s.user_id WHERE s.seller_slug = ?", (report["seller"],)):
                outbox.enqueue(edge, "product_unlisted", seller_user["email"], seller_user["id"],
                               name=seller_user["display_name"], product=report["product_slug"], reason=reason,
                               link=f"{edge.settings.CHECKOUT_URL}/seller/products/list")
    done = f"Report {report_id} dismissed." if action == "dismiss" else f"{report['product_slug']} is unlisted."
    return Outcome(change.said(done) if change else done, change)


# --- sellers of new accounts --------------------------------------------------------------------

def unclaimed_sellers(edge: "Edge") -> dict[str, str]:
    """Catalogue sellers no account manages: slug → name."""
    linked = {r[0] for r in edge.db.execute("SELECT seller_slug FROM seller_accounts")}
    found = {}
    for slug, entry in edge.catalog.current().sellers.items():
        if slug not in linked and isinstance(entry, dict):
            found[slug] = str(entry.get("name", slug))
    return found


def ensure_seller(edge: "Edge", user: Any) -> str | None:
    """The catalogue seller a seller account sells as, set up on first need: a claim when its
    name is an unclaimed catalogue seller's (an admin decides; None meanwhile), otherwise a new
    seller slug reserved for the account (its page is written with its first approved product,
    or when the seller edits it)."""
    if user["role"] not in ("seller", "admin"):
        return None
    found = edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY created_at LIMIT 1",
                            (user["id"],)).fetchone()
    if found:
        return str(found[0])
    if user["role"] == "admin":
        return None  # an administrator sees every seller, and sells as none unless linked
    if edge.db.execute("SELECT 1 FROM seller_claims WHERE user_id = ? AND status = 'open'", (user["id"],)).fetchone():
        return None
    name = str(user["display_name"]).strip().lower()
    match = next((slug for slug, n in unclaimed_sellers(edge).items() if n.strip().lower() == name), None)
    if match is not None and not edge.db.execute("SELECT 1 FROM seller_claims WHERE user_id = ? AND seller_slug = ?",
                                                 (user["id"], match)).fetchone():
        file_claim(edge, user, match, "Filed at sign-up: the account's name is this seller's.")
        return None
    taken = {p.stem for p in (content.content_dir(edge) / "sellers").glob("*.md")} \
        | set(edge.catalog.current().sellers) | slugs.seller_slugs_ever_used(edge)
    base = approval.slugify(str(user["display_name"]))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    with atomic(edge.db):
        edge.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, created_at) VALUES (?,?,?)",
                        (slug, user["id"], edge.clock.iso()))
        audit.record(edge, "seller.created", actor_id=user["id"], subject_id=user["id"], seller=slug)
    return slug


def file_claim(edge: "Edge", user: Any, seller_slug: str, note: str) -> int:
    if seller_slug not in unclaimed_sellers(edge):
        raise ValidationFailed(fields={"seller": "Choose a seller page nobody manages yet."})
    note = (note or "").strip()[:DETAILS_LEN]
    try:
        with atomic(edge.db):
            cur = edge.db.execute("INSERT INTO seller_claims (user_id, seller_slug, note, created_at) VALUES (?,?,?,?)",
                                  (user["id"], seller_slug, note, edge.clock.iso()))
            audit.record(edge, "moderation.claim_filed", actor_id=user["id"], subject_id=user["id"], seller=seller_slug)
    except Exception as exc:  # the unique index: one open claim per account and seller
        if "UNIQUE" in str(exc):
            raise Conflict("You asked for this seller page already; an administrator will decide.") from None
        raise
    return int(cur.lastrowid)


def open_claims(edge: "Edge") -> list[dict[str, Any]]:
    rows = edge.db.execute("SELECT c.*, u.email, u.display_name FROM seller_claims c JOIN users u ON u.id = c.user_id"
                           " WHERE c.status = 'open' ORDER BY c.id").fetchall()
    names = edge.catalog.current().sellers
    return [{**dict(r), "seller_name": (names.get(r["seller_slug"]) or {}).get("name", r["seller_slug"])}
            for r in rows]


def decide_claim(edge: "Edge", claim_id: int, actor: Any, approve: bool, reason: str,
                 ip: str | None = None) -> Outcome:
    claim = edge.db.execute("SELECT c.*, u.email, u.display_name FROM seller_claims c JOIN users u ON u.id = c.user_id"
                            " WHERE c.id = ?", (claim_id,)).fetchone()
    if claim is None:
        raise NotFound("No such claim.")
    if claim["status"] != "open":
        raise Conflict(f"This claim was already decided ({claim['status']}).")
    reason = (reason or "").strip() if approve else accounts_standing.check_reason(reason)
    if approve and claim["seller_slug"] not in unclaimed_sellers(edge):
        raise Conflict("Another account manages this seller now.")
    with atomic(edge.db):
        edge.db.execute("UPDATE seller_claims SET status = ?, decided_at = ?, decided_by = ?, decision_reason = ?"
                        " WHERE id = ?", ("approved" if approve else "rejected", edge.clock.iso(), actor["id"],
                                          reason, claim_id))
        if approve:
            edge.db.execute("INSERT INTO seller_accounts (seller_slug, user_id, created_at) VALUES (?,?,?)",
                            (claim["seller_slug"], claim["user_id"], edge.clock.iso()))
        audit.record(edge, "moderation.claim_decided", actor_id=actor["id"], subject_id=claim["user_id"], ip=ip,
                     by=accounts_standing.actor_name(actor), seller=claim["seller_slug"],
                     decision="approved" if approve else "rejected", reason=reason)
        outbox.enqueue(edge, "claim_decided", claim["email"], claim["user_id"], name=claim["display_name"],
                       seller=claim["seller_slug"], approved=approve, reason=reason,
                       link=f"{edge.settings.CHECKOUT_URL}/seller")
    return Outcome(f"{claim['email']} now manages {claim['seller_slug']}." if approve
                   else f"The claim of {claim['email']} was rejected; they were emailed the reason.")


def open_claim_of(edge: "Edge", user_id: int) -> str | None:
    """The catalogue seller a user has asked to manage, while an admin has not decided yet."""
    row = edge.db.execute("SELECT seller_slug FROM seller_claims WHERE user_id = ? AND status = 'open'",
                          (user_id,)).fetchone()
    return row[0] if row else None
