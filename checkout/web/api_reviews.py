"""The public API's reviews (issues #14 and #21): anyone reads a product's reviews; a buyer lists,
writes, edits and deletes their own (through `checkout.reviews`, with its rules: only a buyer who
owns the product reviews it, 403 `not_a_buyer`); a seller lists the reviews of their products and
replies once. Another account's review answers 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from checkout.core.errors import NotFound, ValidationFailed
from checkout.payments import payouts
from checkout.reviews import reviews
from checkout.web.api_registry import INTEGER, NULL_STRING, STRING, Call, Operation, Param, obj

SELLER = ("seller", "admin")
REVIEW_ID = Param("review_id", "path", {"type": "integer", "minimum": 1})
PRODUCT_SLUG = Param("slug", "path", {"type": "string", "pattern": r"^[a-z0-9][a-z0-9-]{0,99}$"})
REVIEW_PROPS = dict(id=INTEGER, product=STRING, rating={"type": "integer", "minimum": 1, "maximum": 5}, title=STRING,
                    body=STRING, author=STRING, created_at=STRING, updated_at=STRING, helpful=INTEGER,
                    reply=NULL_STRING, replied_at=NULL_STRING)
PUBLIC_KEYS = ("id", "product", "rating", "title", "body", "author", "created_at", "updated_at", "helpful", "reply",
               "replied_at")

SCHEMAS: dict[str, dict[str, Any]] = {
    "Review": obj(PUBLIC_KEYS, **REVIEW_PROPS),
    "OwnReview": obj((*PUBLIC_KEYS, "status", "held_reason", "hidden_reason"), **REVIEW_PROPS,
                     status={"enum": ["pending", "approved", "hidden"]}, held_reason=NULL_STRING,
                     hidden_reason=NULL_STRING),
}
REVIEW = {"$ref": "#/components/schemas/Review"}
OWN = {"$ref": "#/components/schemas/OwnReview"}
FIELDS = ("rating", "title", "body")
WRITE_PROPS = {"rating": {"type": "integer", "minimum": 1, "maximum": 5},
               "title": {"type": "string", "maxLength": reviews.MAX_TITLE},
               "body": {"type": "string", "maxLength": reviews.MAX_BODY}}


def _known(call: Call, allowed: set[str]) -> None:
    unknown = sorted(set(call.body) - allowed)
    if unknown:
        raise ValidationFailed(fields={unknown[0][:40]: "is not a field of a review"})


def _own(call: Call, review_id: int) -> dict[str, Any]:
    """The caller's review, for its author's view; another account's answers 404."""
    found = next((r for r in reviews.by_author(call.edge, call.user.id) if r["id"] == review_id), None)
    if found is None:
        raise NotFound("There is no review of yours with this id.")
    return found


def _slug(call: Call) -> str:
    slug = call.request.path_params.get("slug", "")
    if slug not in call.edge.catalog.current().products:
        raise NotFound("There is no listed product with that slug.")
    return slug


async def list_product_reviews(call: Call) -> Any:
    slug = _slug(call)
    sort = call.query.get("sort", "newest")
    if sort not in reviews.SORTS:
        raise ValidationFailed(fields={"sort": f"must be one of {', '.join(reviews.SORTS)}"})
    page = call.query.get("page", "1")
    if not page.isdigit() or not 1 <= int(page) <= 10_000:
        raise ValidationFailed(fields={"page": "must be a whole number from 1 to 10000"})
    found, total = reviews.listing(call.edge, slug, sort, int(page), call.limit())
    return {"data": found, "total": total, "summary": reviews.aggregate(call.edge, slug)}


async def list_my_reviews(call: Call) -> Any:
    return {"data": reviews.by_author(call.edge, call.user.id)}


async def create_review(call: Call) -> Any:
    _known(call, {"product", *FIELDS})
    made = reviews.create(call.edge, call.user, call.body.get("product"), call.body.get("rating"),
                          call.body.get("title", ""), call.body.get("body", ""), call.ip)
    return _own(call, made["id"])


async def update_review(call: Call) -> Any:
    review_id = call.path_id("review_id")
    before = _own(call, review_id)  # another account's review: 404 before any field check
    _known(call, set(FIELDS))
    merged = {k: call.body.get(k, before[k]) for k in FIELDS}
    reviews.edit(call.edge, call.user, review_id, merged["rating"], merged["title"], merged["body"], call.ip)
    return _own(call, review_id)


async def delete_review(call: Call) -> Any:
    review_id = call.path_id("review_id")
    _own(call, review_id)
    reviews.delete(call.edge, call.user, review_id, call.ip)
    return {"deleted": True}


def _sellers(call: Call) -> list[str]:
    return payouts.managed_sellers(call.edge, call.user)


async def list_seller_reviews(call: Call) -> Any:
    product = call.query.get("product") or None
    return {"data": reviews.of_sellers(call.edge, _sellers(call), product)}


async def reply_to_review(call: Call) -> Any:
    review_id = call.path_id("review_id")
    if not any(r["id"] == review_id for r in reviews.of_sellers(call.edge, _sellers(call))):
        raise NotFound("There is no review of your products with this id.")
    _known(call, {"reply"})
    reviews.reply(call.edge, call.user, review_id, call.body.get("reply"), call.ip)
    return next(r for r in reviews.of_sellers(call.edge, _sellers(call)) if r["id"] == review_id)


OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/products/{slug}/reviews", list_product_reviews,
              "A product's published reviews, with its rating summary", None,
              obj(["data", "total", "summary"], data={"type": "array", "items": REVIEW}, total=INTEGER,
                  summary=obj(["count", "average", "histogram"], count=INTEGER, average=NULL_STRING,
                              histogram={"type": "array", "items": INTEGER})),
              "Reviews", params=(PRODUCT_SLUG, Param("sort", schema={"enum": list(reviews.SORTS)}),
                                 Param("page", schema={"type": "integer", "minimum": 1, "maximum": 10000}),
                                 Param("limit", schema={"type": "integer", "minimum": 1, "maximum": 100}))),
    Operation("GET", "/api/v1/reviews", list_my_reviews, "Your reviews, with their moderation state", "read:reviews",
              obj(["data"], data={"type": "array", "items": OWN}), "Reviews"),
    Operation("POST", "/api/v1/reviews", create_review, "Review a product you bought (one review per product)",
              "write:reviews", OWN, "Reviews", status=201, creates=True,
              body={"type": "object", "required": ["product", "rating"], "additionalProperties": False,
                    "properties": {"product": STRING, **WRITE_PROPS}},
              description="Only a buyer who owns the product (a purchase not refunded) may review it: anyone else "
                          "gets `403 not_a_buyer`. A review with a link, or from a new account, waits for a moderator."),
    Operation("PATCH", "/api/v1/reviews/{review_id}", update_review, "Change your review (moderated again)",
              "write:reviews", OWN, "Reviews", params=(REVIEW_ID,),
              body={"type": "object", "additionalProperties": False, "properties": WRITE_PROPS}),
    Operation("DELETE", "/api/v1/reviews/{review_id}", delete_review, "Delete your review", "write:reviews",
              obj(["deleted"], deleted={"type": "boolean"}), "Reviews", params=(REVIEW_ID,)),
    Operation("GET", "/api/v1/seller/reviews", list_seller_reviews,
              "Published reviews of the products of the sellers you manage, newest first", "read:reviews",
              obj(["data"], data={"type": "array", "items": REVIEW}), "Reviews", roles=SELLER,
              params=(Param("product", description="Only reviews of this product slug."),)),
    Operation("POST", "/api/v1/seller/reviews/{review_id}/reply", reply_to_review,
              "Reply publicly to a review of your product (once)", "write:reviews", REVIEW, "Reviews", roles=SELLER,
              params=(REVIEW_ID,), body=obj(["reply"], reply={"type": "string", "minLength": 1,
                                                              "maxLength": reviews.MAX_BODY})),
]
