"""A seller's products, wherever they came from (a pull request or the upload form), with their
state, and what the seller may do with them: unlist (the product leaves the storefront; its
buyers keep their downloads), list again, and delete (only a product nobody bought; otherwise
it can only be unlisted). Changes go through the content pipeline of approvals
(`checkout.delivery.content`: written and rebuilt, or committed on a branch).

States: `live` (in the loaded catalogue), `approved` (in the content, not built yet),
`pending`, `draft`, `rejected` (with the reason), `unlisted` (left the catalogue; its file says
`withdrawn`, or the seller's account is suspended), `deleted` (its file is gone).
"""

from __future__ import annotations

from typing import Any

from checkout.core import audit
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.core.errors import Conflict, Forbidden, NotFound
from checkout.delivery import content
from checkout.delivery.content import Change
from checkout.delivery.uploads import submissions_of

HELP = {"live": "Listed on the storefront.", "approved": "Approved: listed after the next catalogue build.",
        "pending": "Waiting for review.", "draft": "Draft: only you can see it.",
        "rejected": "Not approved: see the reason, change it and submit again.",
        "unlisted": "Not on the storefront; buyers keep their downloads.",
        "suspended": "Unlisted while your account is suspended.",
        "deleted": "Deleted."}


def products_of(edge: "Edge", user: Any, sellers: list[str]) -> list[dict[str, Any]]:
    """Every product of the account's sellers and submissions, newest change first."""
    state = edge.catalog.current()
    mine: dict[str, dict[str, Any]] = {}
    for slug, p in state.products.items():
        if p.seller in sellers:
            mine[slug] = {"slug": slug, "title": p.title, "seller": p.seller, "state": "live", "reason": "",
                          "version": p.version, "price": p.price.display(), "updated": "", "source": "catalogue"}
    if sellers:
        for r in edge.db.execute(f"SELECT product_slug, title, version, seller, removed_at, last_seen_at FROM"
                                 f" catalog_products WHERE seller IN ({', '.join('?' * len(sellers))})", sellers):
            if r["product_slug"] in mine:
                continue
            gone = content.product_path(edge, r["product_slug"]) is None
            mine[r["product_slug"]] = {"slug": r["product_slug"], "title": r["title"] or r["product_slug"],
                                       "seller": r["seller"], "state": "deleted" if gone else "unlisted", "reason": "",
                                       "version": r["version"], "price": "", "updated": r["removed_at"] or "",
                                       "source": "catalogue"}
    for slug, sub in submissions_of(edge, user["id"]).items():
        found = mine.get(slug)
        if found is not None:
            found["updated"] = found["updated"] or sub["updated_at"]
            found["source"] = "upload"
            if sub["status"] in ("pending", "draft", "rejected") and found["state"] == "live":
                found["update"] = sub["status"]  # a new version waits; the listed one stays
            continue
        status = sub["status"]
        if status == "approved":
            status = "approved" if content.product_path(edge, slug) is not None else "deleted"
        mine[slug] = {"slug": slug, "title": sub["fields"].get("title", slug), "seller": sub.get("seller_slug") or "",
                      "state": status, "reason": sub["reason"] or "", "version": sub["fields"].get("version", ""),
                      "price": f"{sub['fields'].get('price', '')} {sub['fields'].get('currency', '')}".strip(),
                      "updated": sub["updated_at"], "source": "upload", "submission": sub["id"]}
    banned = user["banned_at"] is not None
    bought = _bought(edge, list(mine))
    for p in mine.values():
        if banned and p["state"] in ("live", "approved"):
            p["state"] = "suspended"
        p["help"] = HELP.get(p["state"], "")
        p["bought"] = bought.get(p["slug"], 0)
        p["file"] = p["state"] in ("live", "approved", "unlisted") and content.product_path(edge, p["slug"]) is not None
        p["can_unlist"] = p["state"] in ("live", "approved") and p["file"] and not banned
        p["can_relist"] = p["state"] == "unlisted" and p["file"] and not banned
        p["can_delete"] = p["bought"] == 0 and p["state"] != "deleted" and not banned and (
            p["file"] or p["state"] in ("pending", "draft", "rejected"))
    return sorted(mine.values(), key=lambda p: (p["state"] == "deleted", p["title"].lower()))


def _bought(edge: "Edge", slugs: list[str]) -> dict[str, int]:
    """Purchases ever made of each product, refunded ones included: accounting keeps them."""
    if not slugs:
        return {}
    rows = edge.db.execute(f"SELECT product_slug, COUNT(*) FROM purchases WHERE product_slug IN"
                           f" ({', '.join('?' * len(slugs))}) GROUP BY product_slug", slugs)
    return {r[0]: int(r[1]) for r in rows}


def _own(edge: "Edge", user: Any, sellers: list[str], slug: str) -> dict[str, Any]:
    found = next((p for p in products_of(edge, user, sellers) if p["slug"] == slug), None)
    if found is None:
        raise NotFound("You have no product with that address.")
    return found


def unlist(edge: "Edge", user: Any, sellers: list[str], slug: str) -> Change:
    product = _own(edge, user, sellers, slug)
    if not product["can_unlist"]:
        raise Conflict(f"This product is {product['state']}: there is nothing to unlist.")
    change = content.set_product_status(edge, slug, "withdrawn", f"Unlist {slug} (asked by its seller)")
    with atomic(edge.db):
        audit.record(edge, "seller.product_unlisted", actor_id=user["id"], subject_id=user["id"], product=slug,
                     where=change.where)
    return change


def relist(edge: "Edge", user: Any, sellers: list[str], slug: str) -> Change:
    product = _own(edge, user, sellers, slug)
    if not product["can_relist"]:
        raise Conflict(f"This product is {product['state']}: it cannot be listed again from here.")
    change = content.set_product_status(edge, slug, "published", f"List {slug} again (asked by its seller)")
    with atomic(edge.db):
        audit.record(edge, "seller.product_relisted", actor_id=user["id"], subject_id=user["id"], product=slug,
                     where=change.where)
    return change


def delete(edge: "Edge", user: Any, sellers: list[str], slug: str) -> Change | None:
    """Delete a product nobody bought: its file leaves the content (and the storefront), and its
    submissions are removed. A bought product is refused: unlist it instead."""
    product = _own(edge, user, sellers, slug)
    if product["bought"]:
        raise Forbidden(f"{product['title']} was bought {product['bought']} time(s): buyers keep their downloads, so it"
                        " cannot be deleted. Unlist it instead.", code="product_bought")
    if not product["can_delete"]:
        raise Conflict(f"This product is {product['state']}: it cannot be deleted from here.")
    change = None
    if product["file"]:
        change = content.delete_product(edge, slug, f"Delete {slug} (asked by its seller; never bought)")
    with atomic(edge.db):
        edge.db.execute("DELETE FROM submissions WHERE user_id = ? AND product_slug = ? AND status != 'approved'",
                        (user["id"], slug))
        audit.record(edge, "seller.product_deleted", actor_id=user["id"], subject_id=user["id"], product=slug,
                     where=change.where if change else "submission")
    return change
