"""Seller and admin pages of uploads: the dashboard (`/seller`), the product form
(`/seller/products`, which the streaming upload endpoint in `checkout.uploads` answers on
POST), a Markdown preview, and the admin approval queue (`/admin/submissions`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import approval, delivery
from .errors import EdgeError, Forbidden, NotFound
from .web import client_ip, edge_of, read_form, render, require_admin, require_user

STATUS_HELP = {"draft": "Draft: only you can see it.", "pending": "Waiting for review.",
               "approved": "Approved: it appears after the next catalogue build.",
               "rejected": "Not approved: see the reason, change it and submit again.",
               "published": "Published in the catalogue."}


def require_seller_page(request: Request) -> Any:
    user = require_user(request)
    if user["role"] not in ("seller", "admin"):
        raise Forbidden("This page is for seller accounts.", code="not_a_seller")
    return user


def _categories(request: Request) -> list[Any]:
    from .uploads import _categories as slugs

    edge = edge_of(request)
    cats = list(edge.catalog.current().categories)
    return cats or [type("C", (), {"slug": s, "name": s.title()})() for s in slugs(edge)]


def form_page(request: Request, status: int = 200, error: str = "", fields: dict | None = None,
              form: dict | None = None) -> HTMLResponse:
    edge = edge_of(request)
    s = edge.settings
    return render(request, "edge/seller_form.html", status=status, error=error, fields=fields or {},
                  form=form or {}, categories=_categories(request),
                  currencies=("NGN", "GHS", "KES", "ZAR", "USD"),
                  max_file_mb=s.UPLOAD_MAX_FILE_BYTES // (1024 * 1024),
                  max_image_mb=s.UPLOAD_MAX_IMAGE_BYTES // (1024 * 1024), max_images=s.UPLOAD_MAX_IMAGES)


async def product_form(request: Request) -> Response:
    edge = edge_of(request)
    user = require_seller_page(request)
    slug = request.query_params.get("slug", "")
    form: dict[str, Any] = {}
    if slug:
        row = edge.db.execute("SELECT * FROM submissions WHERE product_slug = ? AND user_id = ? ORDER BY id DESC",
                              (slug, user["id"])).fetchone()
        if row is None:
            raise NotFound("You have no product with that address.")
        form = {**json.loads(row["fields"]), "slug": slug}
    return form_page(request, form=form)


async def preview(request: Request) -> Response:
    from generator.markup import render_markdown

    require_seller_page(request)
    form = await read_form(request)
    return JSONResponse({"html": render_markdown(str(form.get("description", ""))[:20_000])})


def _published(edge: Any, slug: str) -> bool:
    return slug in edge.catalog.current().products


def _sales(edge: Any, slugs: list[str]) -> dict[str, int]:
    if not slugs or not edge.db["purchases"].exists():
        return {}
    marks = ",".join("?" * len(slugs))
    rows = edge.db.execute(f"SELECT product_slug, COUNT(*) AS n FROM purchases WHERE product_slug IN ({marks})"
                           " AND status = 'active' GROUP BY product_slug", slugs).fetchall()
    return {r["product_slug"]: r["n"] for r in rows}


async def dashboard(request: Request) -> Response:
    edge = edge_of(request)
    user = require_seller_page(request)
    rows = [approval.decode(r) for r in edge.db.execute(
        "SELECT * FROM submissions WHERE user_id = ? ORDER BY updated_at DESC", (user["id"],))]
    latest: dict[str, dict] = {}
    for r in rows:
        latest.setdefault(r["product_slug"], r)
    slugs = list(latest)
    sales = _sales(edge, slugs)
    marks = ",".join("?" * len(slugs))
    downloads = {r["product_slug"]: r["n"] for r in edge.db.execute(
        f"SELECT product_slug, COUNT(*) AS n FROM downloads WHERE outcome = 'started' AND product_slug IN ({marks})"
        " GROUP BY product_slug", slugs)} if slugs else {}
    products = []
    for slug, r in latest.items():
        status = "published" if r["status"] == "approved" and _published(edge, slug) else r["status"]
        products.append({"slug": slug, "title": r["fields"].get("title", slug), "status": status,
                         "help": STATUS_HELP[status], "reason": r["reason"] or "", "version": r["fields"].get("version", ""),
                         "sales": sales.get(slug, 0), "downloads": downloads.get(slug, 0), "updated_at": r["updated_at"]})
    submitted = request.query_params.get("submitted", "")
    return render(request, "edge/seller.html", products=products,
                  notice="Your product was received." if submitted else "")


# --- admin -----------------------------------------------------------------------------------

async def admin_queue(request: Request) -> Response:
    from generator.markup import render_markdown

    edge = edge_of(request)
    require_admin(request)
    items = approval.queue(edge)
    for item in items:
        item["preview"] = render_markdown(item["fields"].get("description", ""))
    quarantined = [dict(r) for r in edge.db.execute(
        "SELECT q.*, u.email FROM quarantined_uploads q LEFT JOIN users u ON u.id = q.user_id ORDER BY q.id DESC LIMIT 50")]
    return render(request, "edge/admin_submissions.html", items=items, quarantined=quarantined,
                  notice=request.query_params.get("notice", ""), mode=edge.settings.APPROVAL_MODE)


async def admin_downloads(request: Request) -> Response:
    """Every download attempt, newest first, and started downloads per product."""
    edge = edge_of(request)
    require_admin(request)
    rows = [dict(r) for r in edge.db.execute(
        "SELECT d.*, u.email FROM downloads d LEFT JOIN users u ON u.id = d.user_id ORDER BY d.id DESC LIMIT 500")]
    per_product = [dict(r) for r in edge.db.execute(
        "SELECT product_slug, seller, COUNT(*) AS started FROM downloads WHERE outcome = 'started'"
        " GROUP BY product_slug, seller ORDER BY started DESC LIMIT 200")]
    return render(request, "edge/admin_downloads.html", rows=rows, per_product=per_product)


def _sub_id(request: Request) -> int:
    try:
        return int(request.path_params["sub_id"])
    except ValueError:
        raise NotFound() from None


async def admin_approve(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    edge = edge_of(request)
    admin = require_admin(request)
    await read_form(request)
    sub_id = _sub_id(request)
    try:
        where = await run_in_threadpool(approval.approve, edge, sub_id, admin)
    except EdgeError as exc:
        return RedirectResponse(f"/admin/submissions?notice={_q(exc.message)}", status_code=303)
    notice = f"Approved: {where}."
    if edge.settings.APPROVAL_MODE == "write" and edge.settings.REBUILD_ON_APPROVAL:
        problem = await run_in_threadpool(approval.rebuild, edge)
        notice += f" The rebuild failed: {problem}" if problem else " The storefront was rebuilt."
        if not problem:
            delivery.notify_new_versions(edge)
    delivery.log.info("admin_decision", admin=admin["id"], submission=sub_id, ip=client_ip(request))
    return RedirectResponse(f"/admin/submissions?notice={_q(notice)}", status_code=303)


async def admin_reject(request: Request) -> Response:
    edge = edge_of(request)
    admin = require_admin(request)
    form = await read_form(request)
    sub_id = _sub_id(request)
    try:
        approval.reject(edge, sub_id, admin, str(form.get("reason", "")))
    except EdgeError as exc:
        msg = exc.fields.get("reason") or exc.message
        return RedirectResponse(f"/admin/submissions?notice={_q(msg)}", status_code=303)
    return RedirectResponse(f"/admin/submissions?notice={_q('Rejected; the seller was emailed.')}", status_code=303)


async def admin_image(request: Request) -> Response:
    edge = edge_of(request)
    require_admin(request)
    sub = approval.decode(approval.get(edge, _sub_id(request)))
    try:
        img = sub["images"][int(request.path_params["n"])]
    except (ValueError, IndexError):
        raise NotFound() from None
    data = b"".join(delivery.storage(edge).iter_chunks(img["key"]))
    media = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}.get(img.get("type"), "application/octet-stream")
    return Response(data, media_type=media, headers={"Content-Security-Policy": "default-src 'none'"})


def _q(text: str) -> str:
    from urllib.parse import quote
    return quote(text[:300])


ROUTES = [
    Route("/seller", dashboard),
    Route("/seller/products", product_form),  # POST is answered, streaming, by uploads.UploadMiddleware
    Route("/seller/preview", preview, methods=["POST"]),
    Route("/admin/submissions", admin_queue),
    Route("/admin/downloads", admin_downloads),
    Route("/admin/submissions/{sub_id}/approve", admin_approve, methods=["POST"]),
    Route("/admin/submissions/{sub_id}/reject", admin_reject, methods=["POST"]),
    Route("/admin/submissions/{sub_id}/images/{n}", admin_image),
]
