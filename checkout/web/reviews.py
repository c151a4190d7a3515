"""Reviews on the edge (issue #14): the JSON API the seed asks for, the same actions as HTML forms
that work without JavaScript, the admin's review page, the unsubscribe link, and the Save
button of the static storefront.

Every change that can move what the storefront shows (a review approved, edited, hidden or
deleted) wakes the stats exporter (`request_export`, run by `checkout.web.jobs`): it writes the
export and rebuilds the storefront through the approval path, off the request.

`POST /wishlist/save` is posted by the static site's Save button, which cannot carry our CSRF
token: like `POST /cart/add` (see `checkout.web.shop`) it is exempt and checks the Origin
instead; what a forged one could do is put a listed product on a wishlist. A guest is sent to
sign in and comes back to `GET /wishlist/save` with a token the edge signed for that product,
which saves it and returns to the product page.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from checkout.core.errors import EdgeError, InvalidToken, NotFound, ValidationFailed
from checkout.payments import carts, payouts
from checkout.reviews import invites, wishlist
from checkout.reviews import reviews as rv
from checkout.web import flash, params
from checkout.web.api import json_body
from checkout.web.auth import authorize, requires, user_or_none
from checkout.web.base import client_ip, edge_of, redirect_to
from checkout.web.pages import message, read_form, render
from checkout.web.shop import check_origin
from generator.markup import render_markdown

PER_PAGE = 10
MAX_PER_PAGE = 50
SAVE_PATH = "/wishlist/save"
SAVE_TOKEN_SECONDS = 3600
FORBIDDEN = "This is for administrators."


def request_export(edge: Any) -> None:
    """Ask the stats exporter to run now (it coalesces bursts; see checkout.web.jobs)."""
    edge.service("stats_export_wanted", asyncio.Event).set()


def _product(edge: Any, slug: str) -> Any:
    found = edge.catalog.current().products.get(slug)
    if found is None or found.withdrawn:
        raise NotFound("No product is listed at this address.")
    return found


def _page_args(query: Any) -> tuple[str, int, int]:
    sort = query.get("sort") or "newest"
    if sort not in rv.SORTS:
        raise ValidationFailed(fields={"sort": "must be newest, highest, lowest or helpful"})
    page = params.bounded_int(query.get("page", "1"), "page", 1, 100_000)
    per_page = params.bounded_int(query.get("per_page", str(PER_PAGE)), "per_page", 1, MAX_PER_PAGE)
    return sort, page, per_page


def _changed(edge: Any, review: dict[str, Any] | None = None) -> None:
    """A review changed: the storefront's stats may have moved."""
    request_export(edge)


# --- the JSON API ---------------------------------------------------------------------------------

def _review_json(edge: Any, row: dict[str, Any]) -> dict[str, Any]:
    author = edge.db.execute("SELECT display_name FROM users WHERE id = ?", (row["user_id"],)).fetchone()[0]
    return rv.own(row, author)


@requires()
async def api_create(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    row = rv.create(edge, request.user, data.get("product"), data.get("rating"), data.get("title"), data.get("body"),
                    client_ip(request))
    _changed(edge, row)
    return JSONResponse(_review_json(edge, row), status_code=201)


async def api_list(request: Request) -> Response:
    edge = edge_of(request)
    slug = request.path_params["product"]
    _product(edge, slug)
    sort, page, per_page = _page_args(request.query_params)
    items, total = rv.listing(edge, slug, sort, page, per_page)
    return JSONResponse({"product": slug, "aggregate": rv.aggregate(edge, slug), "sort": sort, "page": page,
                         "per_page": per_page, "total": total, "reviews": items})


@requires()
async def api_review(request: Request) -> Response:
    """`PUT` edits, `DELETE` deletes: the author's own review only."""
    edge = edge_of(request)
    review_id = params.path_id(request, "review_id")
    if request.method == "DELETE":
        rv.delete(edge, request.user, review_id, client_ip(request))
        _changed(edge)
        return Response(status_code=204)
    data = await json_body(request)
    row = rv.edit(edge, request.user, review_id, data.get("rating"), data.get("title"), data.get("body"),
                  client_ip(request))
    _changed(edge, row)
    return JSONResponse(_review_json(edge, row))


@requires("admin", forbidden="This endpoint is for administrators.")
async def api_approve(request: Request) -> Response:
    edge = edge_of(request)
    row = rv.approve(edge, request.user, params.path_id(request, "review_id"), client_ip(request))
    _changed(edge, row)
    return JSONResponse(_review_json(edge, row))


@requires("admin", forbidden="This endpoint is for administrators.")
async def api_hide(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    row = rv.hide(edge, request.user, params.path_id(request, "review_id"), data.get("reason"), client_ip(request))
    _changed(edge, row)
    return JSONResponse(_review_json(edge, row))


@requires()
async def api_report(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    rv.report(edge, request.user, params.path_id(request, "review_id"), data.get("reason"), client_ip(request))
    return JSONResponse({"reported": True}, status_code=202)


@requires()
async def api_reply(request: Request) -> Response:
    edge = edge_of(request)
    data = await json_body(request)
    row = rv.reply(edge, request.user, params.path_id(request, "review_id"), data.get("reply"), client_ip(request))
    _changed(edge, row)
    return JSONResponse(_review_json(edge, row))


# --- the HTML pages -------------------------------------------------------------------------------

async def reviews_page(request: Request) -> Response:
    """All of a product's reviews, paginated and sorted; the buyer's own review and its form."""
    edge = edge_of(request)
    slug = request.path_params["product"]
    product = _product(edge, slug)
    user = user_or_none(request)
    if request.method == "POST":
        return await _write(request, product)
    try:
        sort, page, per_page = _page_args(request.query_params)
    except ValidationFailed:
        sort, page, per_page = "newest", 1, PER_PAGE
    return _show(request, product, sort, page, per_page, user)


def _show(request: Request, product: Any, sort: str, page: int, per_page: int, user: Any,
          status: int = 200, error: str = "", fields: dict[str, str] | None = None,
          form: dict[str, Any] | None = None) -> Response:
    edge = edge_of(request)
    items, total = rv.listing(edge, product.slug, sort, page, per_page)
    for item in items:
        item["body_html"] = render_markdown(item["body"])
        item["reply_html"] = render_markdown(item["reply"]) if item["reply"] else ""
    agg = rv.aggregate(edge, product.slug)
    mine = rv.mine(edge, user.id, product.slug) if user else None
    can_write = bool(user) and rv.owns(edge, user.id, product.slug)
    sells = bool(user) and product.seller in _sellers(edge, user.id)
    pages = max(1, -(-total // per_page))
    return render(request, "edge/reviews.html", status=status, product=product, items=items, agg=agg,
                  hist=[(n, agg["histogram"][n - 1]) for n in (5, 4, 3, 2, 1)], mine=mine, can_write=can_write,
                  sells=sells, sort=sort, sorts=list(rv.SORTS), page=page, pages=pages, total=total,
                  site_url=edge.settings.SITE_URL, error=error, fields=fields or {},
                  form=form or ({"rating": str(mine["rating"]), "title": mine["title"], "body": mine["body"]}
                                if mine else {}))


def _sellers(edge: Any, user_id: int) -> list[str]:
    return payouts.sellers_of(edge, user_id)


async def _write(request: Request, product: Any) -> Response:
    """The review form: create, or edit one's own, or delete it."""
    edge = edge_of(request)
    user = authorize(request, next_url=f"/reviews/{product.slug}#write")
    form = await read_form(request)
    values = {k: form.get(k) for k in ("rating", "title", "body")}
    mine = rv.mine(edge, user.id, product.slug)
    try:
        if form.get("delete") and mine:
            rv.delete(edge, user, mine["id"], client_ip(request))
            said = "Your review was deleted."
        elif mine:
            row = rv.edit(edge, user, mine["id"], values["rating"], values["title"], values["body"], client_ip(request))
            said = _said(row, "updated")
        else:
            row = rv.create(edge, user, product.slug, values["rating"], values["title"], values["body"],
                            client_ip(request))
            said = _said(row, "published")
    except EdgeError as exc:
        if exc.status == 429:
            raise
        return _show(request, product, "newest", 1, PER_PAGE, user, status=exc.status, error=exc.message,
                     fields=exc.fields, form={k: v if isinstance(v, str) else "" for k, v in values.items()})
    _changed(edge)
    return flash.redirect(request, f"/reviews/{product.slug}#write", said)


def _said(row: dict[str, Any], verb: str) -> str:
    if row["status"] == "pending":
        return f"Thank you: your review was saved and waits for a moderator ({row['held_reason']})."
    return f"Thank you: your review was {verb}. It reaches the product page within a minute."


async def _review_action(request: Request, act: Any, said: str) -> Response:
    edge = edge_of(request)
    review = rv.get(edge, params.path_id(request, "review_id"))
    back = f"/reviews/{review['product_slug']}#review-{review['id']}"
    user = authorize(request, next_url=back)
    form = await read_form(request)
    try:
        act(edge, user, review, form)
    except EdgeError as exc:
        if exc.status == 429:
            raise
        return flash.redirect(request, back, "; ".join(exc.fields.values()) or exc.message, "error")
    return flash.redirect(request, back, said)


async def report_review(request: Request) -> Response:
    return await _review_action(request, lambda e, u, r, f: rv.report(e, u, r["id"], f.get("reason"),
                                                                    client_ip(request)),
                                "Thank you: a moderator will look at this review.")


async def helpful(request: Request) -> Response:
    return await _review_action(request, lambda e, u, r, f: rv.vote_helpful(e, u, r["id"]), "Thanks for your vote.")


async def reply_review(request: Request) -> Response:
    def act(e: Any, u: Any, r: Any, f: Any) -> None:
        rv.reply(e, u, r["id"], f.get("reply"), client_ip(request))
        _changed(e)
    return await _review_action(request, act, "Your reply was published.")


# --- admins ----------------------------------------------------------------------------------------

@requires("admin", forbidden=FORBIDDEN)
async def admin_review(request: Request) -> Response:
    edge = edge_of(request)
    review = rv.get(edge, params.path_id(request, "review_id"))
    author = edge.db.execute("SELECT id, display_name, email, created_at FROM users WHERE id = ?",
                             (review["user_id"],)).fetchone()
    reports = [dict(r) for r in edge.db.execute(
        "SELECT x.*, u.display_name FROM review_reports x JOIN users u ON u.id = x.user_id WHERE x.review_id = ?"
        " ORDER BY x.id", (review["id"],))]
    return render(request, "edge/admin_review.html", review=review, author=author, reports=reports,
                  body_html=render_markdown(review["body"]), owns=rv.owns(edge, review["user_id"],
                                                                         review["product_slug"]))


@requires("admin", forbidden=FORBIDDEN)
async def admin_decide(request: Request) -> Response:
    edge = edge_of(request)
    review_id = params.path_id(request, "review_id")
    form = await read_form(request)
    back = f"/admin/reviews/{review_id}"
    try:
        if request.path_params["action"] == "approve":
            rv.approve(edge, request.user, review_id, client_ip(request))
            said = "Approved: the review is visible."
        elif request.path_params["action"] == "hide":
            rv.hide(edge, request.user, review_id, form.get("reason"), client_ip(request))
            said = "Hidden; its author was told why."
        else:
            raise NotFound()
    except EdgeError as exc:
        if exc.status in (404, 429):
            raise
        return flash.redirect(request, back, "; ".join(exc.fields.values()) or exc.message, "error")
    _changed(edge)
    return flash.redirect(request, back, said)


# --- email preferences -------------------------------------------------------------------------------

async def unsubscribe(request: Request) -> Response:
    edge = edge_of(request)
    token = request.query_params.get("t", "")
    try:
        kind = invites.unsubscribe(edge, token) if token else None
    except InvalidToken:
        kind = None
    if kind is None:
        return message(request, "Link not valid", "This unsubscribe link is not valid. Sign in and change your email "
                       "preferences from your wishlist or your account.", status=400)
    what = {"review_invite": "invitations to review", "price_drop": "price-drop emails"}[kind]
    return message(request, "Unsubscribed", f"You will get no more {what} from DigitalDock.")


# --- the wishlist's Save button ----------------------------------------------------------------------

def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _back(edge: Any, product: Any) -> str:
    return f"{edge.settings.SITE_URL}{product.url or '/products/' + product.slug + '/'}"


async def save(request: Request) -> Response:
    edge = edge_of(request)
    if request.method == "POST":
        check_origin(request)
        form = await read_form(request)
        slug = form.get("product")
        product = _product(edge, slug if isinstance(slug, str) else "")
        user = user_or_none(request)
        if user is None:
            token = edge.tokens.dumps("wishlist-save", {"p": product.slug})
            login = "/login?next=" + quote(f"{SAVE_PATH}?t={token}", safe="")
            if _wants_json(request):
                return JSONResponse({"saved": False, "sign_in": login}, status_code=401)
            return redirect_to(login)
        user = authorize(request, next_url=_back(edge, product))
        if form.get("remove"):
            carts.unsave(edge, user.id, product.slug)
            saved = False
        else:
            wishlist.save(edge, user.id, product.slug)
            saved = True
        if _wants_json(request):
            return JSONResponse({"saved": saved, "product": product.slug})
        return redirect_to(_back(edge, product))
    try:  # back from signing in: the edge's own signed token names the product
        data = edge.tokens.loads("wishlist-save", request.query_params.get("t", ""), SAVE_TOKEN_SECONDS)
    except InvalidToken:
        raise NotFound("This link expired; press Save on the product page again.") from None
    product = _product(edge, str(data.get("p", "")))
    user = authorize(request, next_url=f"{SAVE_PATH}?t={request.query_params.get('t', '')}")
    wishlist.save(edge, user.id, product.slug)
    return redirect_to(_back(edge, product))


async def saved_state(request: Request) -> Response:
    """`GET /api/wishlist/saved` for the static site's script: what this browser's account saved."""
    user = user_or_none(request)
    if user is None:
        return JSONResponse({"signed_in": False, "saved": []})
    return JSONResponse({"signed_in": True, "saved": wishlist.saved(edge_of(request), user.id)})


@requires()
async def price_alerts(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    on = form.get("price_drop") == "1"
    invites.set_preference(edge, request.user.id, "price_drop", on)
    return flash.redirect(request, "/wishlist", "We will email you when a saved product's price drops." if on
                          else "No more price-drop emails.")


CSRF_EXEMPT = (SAVE_PATH,)

ROUTES = [
    Route("/api/reviews", api_create, methods=["POST"]),
    Route("/api/reviews/product/{product}", api_list),
    Route("/api/reviews/{review_id}", api_review, methods=["PUT", "DELETE"]),
    Route("/api/reviews/{review_id}/approve", api_approve, methods=["POST"]),
    Route("/api/reviews/{review_id}/hide", api_hide, methods=["POST"]),
    Route("/api/reviews/{review_id}/report", api_report, methods=["POST"]),
    Route("/api/reviews/{review_id}/reply", api_reply, methods=["POST"]),
    Route("/reviews/{product}", reviews_page, methods=["GET", "POST"]),
    Route("/reviews/r/{review_id}/report", report_review, methods=["POST"]),
    Route("/reviews/r/{review_id}/helpful", helpful, methods=["POST"]),
    Route("/reviews/r/{review_id}/reply", reply_review, methods=["POST"]),
    Route("/admin/reviews/{review_id}", admin_review),
    Route("/admin/reviews/{review_id}/{action}", admin_decide, methods=["POST"]),
    Route("/email/unsubscribe", unsubscribe),
    Route(SAVE_PATH, save, methods=["GET", "POST"]),
    Route("/api/wishlist/saved", saved_state),
    Route("/wishlist/alerts", price_alerts, methods=["POST"]),
]
