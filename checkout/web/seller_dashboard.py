"""The seller dashboard: revenue for a chosen range (7, 30, 90 days, 12 months or custom) as a
chart and a table per day, every product with its state, views, sales, conversion and revenue,
unlist and delete, payouts (history and the next one), the statement with its monthly seals,
the public seller page, and asking to manage an existing catalogue seller. Every figure comes
from the ledger (`checkout.payments.reports`, `checkout.payments.statements`); every table
downloads as CSV.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from checkout.core import audit
from checkout.core.db import atomic
from checkout.core.errors import EdgeError, Forbidden, ValidationFailed
from checkout.delivery import content, listings, standing, uploads, views
from checkout.payments import payouts, reports, statements
from checkout.web import charts, flash
from checkout.web.admin_reports import csv_response
from checkout.web.auth import requires
from checkout.web.base import edge_of, off_loop
from checkout.web.pages import read_form, render
from digitaldock import schema
from digitaldock.money import format_money
from generator.markup import render_markdown

FORBIDDEN = "This page is for seller accounts."
RANGES = {"7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30), "90d": ("Last 90 days", 90),
          "12m": ("Last 12 months", 365)}
PROFILE_PATH = "/seller/profile"
AVATAR_SIZE = 256


def my_sellers(request: Request) -> list[str]:
    """The catalogue sellers this account manages (set up on first need for a new seller)."""
    edge = edge_of(request)
    user = request.user
    standing.ensure_seller(edge, user)
    return payouts.managed_sellers(edge, user)


def chosen_range(request: Request) -> tuple[str, reports.Range, str]:
    """(preset or "custom", the range, the period a point of the chart covers)."""
    edge = edge_of(request)
    q = request.query_params
    today = dt.date.fromisoformat(edge.clock.iso()[:10])
    preset = q.get("range") or ("custom" if q.get("from") or q.get("to") else "30d")
    if preset == "custom":
        r = reports.parse_range(q.get("from"), q.get("to"), today)
        period = "day" if r.days <= 92 else "week" if r.days <= 366 else "month"
        return preset, r, period
    if preset not in RANGES:
        raise ValidationFailed(fields={"range": f"must be one of {', '.join(RANGES)} or custom"})
    days = RANGES[preset][1]
    if preset == "12m":
        start = (today.replace(day=1) - dt.timedelta(days=334)).replace(day=1)
        return preset, reports.Range(start, today), "month"
    return preset, reports.Range(today - dt.timedelta(days=days - 1), today), "day"


def _csv_link(request: Request, table: str) -> str:
    q = {k: v for k, v in request.query_params.items() if k in ("range", "from", "to")}
    q.update(format="csv", table=table)
    return f"/seller?{urlencode(q)}"


@requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
async def dashboard(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    sellers = my_sellers(request)
    preset, r, period = chosen_range(request)
    report = await off_loop(request, lambda db: reports.sales(db, r, period, "currency", sellers=sellers))
    by_product = await off_loop(request, lambda db: reports.sales(db, r, period, "product", sellers=sellers))
    products = listings.products_of(edge, user, sellers)
    seen = views.per_product(edge, [p["slug"] for p in products], r.start.isoformat(), r.end.isoformat())
    sold: dict[str, dict[str, Any]] = {}
    for row in by_product.rows:
        s = sold.setdefault(row["product"], {"units": 0, "revenue": {}})
        s["units"] += row["units"]
        s["revenue"][row["currency"]] = s["revenue"].get(row["currency"], 0) + row["seller_net"]
    for p in products:
        s = sold.get(p["slug"], {"units": 0, "revenue": {}})
        p.update(views=seen.get(p["slug"], 0), units=s["units"], conversion=views.conversion(s["units"], seen.get(p["slug"], 0)),
                 revenue=", ".join(format_money(v, c) for c, v in sorted(s["revenue"].items())) or "–")
    days = [{"period": row["period"], "currency": row["currency"], "units": row["units"],
             "refunded_units": row["refunded_units"], "gross": row["gross"], "refunds": row["refunds"],
             "fees": row["fees"], "seller_net": row["seller_net"]} for row in report.rows]
    if request.query_params.get("format") == "csv":
        if request.query_params.get("table") == "products":
            return csv_response(reports.csv_text(
                ["slug", "title", "state", "views", "units", "conversion", "revenue"], products,
                {"slug": "Product", "title": "Title", "state": "State", "views": "Views", "units": "Units sold",
                 "conversion": "Conversion", "revenue": "Your earnings"}), f"products-{r.start}-{r.end}")
        return csv_response(reports.csv_text(["period", "currency", "units", "refunded_units", "gross", "refunds",
                                              "fees", "seller_net"], days, {"seller_net": "Your earnings"}),
                            f"sales-{r.start}-{r.end}")
    drawn = []
    for cur in report.currencies:
        gross, net = report.series(cur, "gross"), report.series(cur, "seller_net")
        labels = [p for p, _ in gross]
        chart = charts.chart(f"Sales and your earnings per {period}, {cur}", labels,
                             [("Sales", [v for _, v in gross]), ("Your earnings", [v for _, v in net])], currency=cur,
                             kind="bar" if len(labels) <= 31 else "line")
        table = {"columns": ["Period", "Sales", "Your earnings"],
                 "rows": [[p, format_money(g, cur), format_money(n, cur)] for (p, g), (_, n) in zip(gross, net)]}
        drawn.append((chart, table))
    history = [p for s in sellers for p in payouts.listing(edge, 20, seller=s)]
    history.sort(key=lambda p: p["created_at"], reverse=True)
    coming = [{"seller": s, **n} for s in sellers for n in payouts.next_payouts(edge, s)]
    claims = standing.unclaimed_sellers(edge) if not sellers else {}
    pending_claim = standing.open_claim_of(edge, user["id"])
    return render(request, "edge/seller.html", sellers=sellers, products=products, charts=drawn, days=days,
                  totals=report.totals, preset=preset, range=r, period=period, presets=RANGES, history=history[:20],
                  coming=coming, claimable=claims, pending_claim=pending_claim,
                  csv_days=_csv_link(request, "days"), csv_products=_csv_link(request, "products"),
                  banned=user["banned_at"] is not None)


def _product_action(action: str):
    @requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
    async def handler(request: Request) -> Response:
        edge = edge_of(request)
        await read_form(request)
        slug = request.path_params["slug"][:100]
        sellers = my_sellers(request)
        fn = {"unlist": listings.unlist, "relist": listings.relist, "delete": listings.delete}[action]
        try:
            change = await run_in_threadpool(fn, edge, request.user, sellers, slug)
        except EdgeError as exc:
            if exc.status == 404:
                raise
            return flash.redirect(request, "/seller#products", exc.message, "error")
        done = {"unlist": f"{slug} is unlisted; its buyers keep their downloads.",
                "relist": f"{slug} is listed again.", "delete": f"{slug} is deleted."}[action]
        return flash.redirect(request, "/seller#products", change.said(done) if change else done)
    handler.__name__ = f"product_{action}"
    return handler


@requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
async def claim(request: Request) -> Response:
    edge = edge_of(request)
    form = await read_form(request)
    try:
        standing.file_claim(edge, request.user, str(form.get("seller", "")), str(form.get("note", "")))
    except EdgeError as exc:
        return flash.redirect(request, "/seller", "; ".join(exc.fields.values()) or exc.message, "error")
    return flash.redirect(request, "/seller", "Your request was sent: an administrator will decide, and we will email "
                          "you.")


def _seller_param(request: Request, sellers: list[str], value: str | None) -> str:
    if not sellers:
        raise Forbidden("Your account does not manage a seller page yet.", code="no_seller")
    slug = value or sellers[0]
    if slug not in sellers:
        raise Forbidden("You do not manage that seller.")
    return slug


@requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
async def statement(request: Request) -> Response:
    edge = edge_of(request)
    sellers = my_sellers(request)
    slug = _seller_param(request, sellers, request.query_params.get("seller"))
    statements.seal_due(edge, slug)
    found = await off_loop(request, lambda db: statements.entries(db, slug))
    check = await off_loop(request, lambda db: statements.verify(db, slug))
    seals = {s["month"]: s for s in statements.seals(edge.db, slug)}
    if request.query_params.get("format") == "csv":
        text = reports.csv_text(statements.CSV_COLUMNS, statements.csv_rows(found), statements.CSV_LABELS)
        text += reports.csv_text(["month", "entries", "hash", "prev_hash"], list(seals.values()),
                                 {"month": "Sealed month", "entries": "Entries", "hash": "Seal (SHA-256)",
                                  "prev_hash": "Previous seal"})
        return csv_response(text, f"statement-{slug}")
    months: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        e["amount_display"] = format_money(e["owed"], e["currency"])
        e["balance_display"] = format_money(e["balance"], e["currency"])
        months.setdefault(e["month"], []).append(e)
    ordered = [(m, months.get(m, []), seals.get(m)) for m in sorted(set(months) | set(seals), reverse=True)]
    balances = {}
    for e in found:
        balances[e["currency"]] = e["balance"]
    return render(request, "edge/seller_statement.html", seller=slug, sellers=sellers, months=ordered, check=check,
                  balances=[(c, format_money(v, c)) for c, v in sorted(balances.items())],
                  csv=f"/seller/statement?seller={slug}&format=csv")


# --- the public seller page ------------------------------------------------------------------------

def avatar_png(data: bytes, max_pixels: int) -> bytes:
    """A seller's avatar as a square-ish PNG of at most 256 × 256, without metadata; a refusal
    names the field."""
    from PIL import Image, UnidentifiedImageError

    problem = uploads.image_type_problem(data[:4096])
    if problem:
        raise ValidationFailed(fields={"avatar": uploads.say("cover", problem).replace("Cover image", "Avatar")})
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.size[0] * im.size[1] > max_pixels:
                raise ValidationFailed(fields={"avatar": f"Avatar: the image is {im.size[0]} × {im.size[1]} pixels; "
                                                         f"at most {uploads.megapixels(max_pixels)} are accepted."})
            im.load()
            im = im.convert("RGBA")
            im.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
            out = io.BytesIO()
            im.save(out, "PNG")
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ValidationFailed(fields={"avatar": f"Avatar: not a readable image ({type(exc).__name__})."}) from None


def _profile_values(edge: Any, slug: str) -> dict[str, Any]:
    found = content.read_seller(edge, slug)
    if found is None:
        entry = edge.catalog.current().sellers.get(slug) or {}
        return {"name": entry.get("name", ""), "bio": "", "location": "", "website": "", "links": "", "avatar": ""}
    meta, bio = found
    return {"name": str(meta.get("name", "")), "bio": bio, "location": str(meta.get("location", "") or ""),
            "website": str(meta.get("website", "") or ""), "links": "\n".join(meta.get("links") or []),
            "avatar": str(meta.get("avatar", ""))}


def _check_profile(values: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    problems: dict[str, str] = {}
    name, bio = values["name"].strip(), values["bio"].strip()
    if not 2 <= len(name) <= 80:
        problems["name"] = "Name: 2 to 80 characters."
    if not schema.BIO_LEN[0] <= len(bio) <= schema.BIO_LEN[1]:
        problems["bio"] = f"About you: {schema.BIO_LEN[0]} to {schema.BIO_LEN[1]:,} characters."
    if values["location"].strip() and not 2 <= len(values["location"].strip()) <= 80:
        problems["location"] = "Location: 2 to 80 characters, or nothing."
    links = [x.strip() for x in values["links"].splitlines() if x.strip()]
    for field, urls in (("website", [values["website"].strip()] if values["website"].strip() else []), ("links", links)):
        for url in urls:
            if not url.startswith("https://") or any(c in url for c in " <>\"'") or len(url) > 300:
                problems[field] = f"{'Website' if field == 'website' else 'Links'}: {url[:80]} is not an https:// address."
    if len(links) > schema.MAX_SELLER_LINKS:
        problems["links"] = f"Links: at most {schema.MAX_SELLER_LINKS}."
    return links, problems


@requires("seller", forbidden=FORBIDDEN, forbidden_code="not_a_seller")
async def profile(request: Request) -> Response:
    edge = edge_of(request)
    sellers = my_sellers(request)
    if request.method == "GET":
        slug = _seller_param(request, sellers, request.query_params.get("seller"))
        return render(request, "edge/seller_profile.html", seller=slug, sellers=sellers,
                      form=_profile_values(edge, slug), fields={}, preview=None, avatar_data="",
                      site_url=edge.settings.SITE_URL)
    form = await request.form(max_part_size=2 * 1024 * 1024)
    slug = _seller_param(request, sellers, str(form.get("seller", "")))
    values = {k: str(form.get(k, "") or "") for k in ("name", "bio", "location", "website", "links")}
    values["avatar"] = _profile_values(edge, slug)["avatar"]
    try:
        avatar, avatar_data = None, str(form.get("avatar_data", "") or "")
        upload = form.get("avatar")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            raw = await upload.read(edge.settings.UPLOAD_MAX_IMAGE_BYTES + 1)
            if len(raw) > edge.settings.UPLOAD_MAX_IMAGE_BYTES:
                raise ValidationFailed(fields={"avatar": "Avatar: the image is larger than "
                                               f"{edge.settings.UPLOAD_MAX_IMAGE_BYTES // 2**20} MB."})
            if raw:
                avatar = await run_in_threadpool(avatar_png, raw, edge.settings.UPLOAD_MAX_IMAGE_PIXELS)
        elif avatar_data:  # chosen before a preview: carried in the form, checked again
            try:
                avatar = await run_in_threadpool(avatar_png, base64.b64decode(avatar_data, validate=True),
                                                 edge.settings.UPLOAD_MAX_IMAGE_PIXELS)
            except ValueError:
                raise ValidationFailed(fields={"avatar": "Avatar: choose the image again."}) from None
        links, problems = _check_profile(values)
        if problems:
            raise ValidationFailed(fields=problems)
    except ValidationFailed as exc:
        return render(request, "edge/seller_profile.html", status=422, seller=slug, sellers=sellers, form=values,
                      fields=exc.fields, preview=None, avatar_data="", site_url=edge.settings.SITE_URL,
                      error="Please correct the fields marked below.")
    finally:
        await form.close()
    data_uri = base64.b64encode(avatar).decode() if avatar else ""
    if str(form.get("action", "")) == "preview":
        preview = {"name": values["name"].strip(), "bio": render_markdown(values["bio"]), "location": values["location"],
                   "website": values["website"].strip(), "links": links,
                   "avatar": f"data:image/png;base64,{data_uri}" if avatar else
                   (f"{edge.settings.SITE_URL}/{values['avatar']}" if values["avatar"] else "")}
        return render(request, "edge/seller_profile.html", seller=slug, sellers=sellers, form=values, fields={},
                      preview=preview, avatar_data=data_uri, site_url=edge.settings.SITE_URL)
    currency = (edge.catalog.current().sellers.get(slug) or {}).get("payout_currency") or "NGN"
    change = await run_in_threadpool(content.save_seller_profile, edge, slug, values["name"].strip(), values["bio"],
                                     values["location"].strip(), values["website"].strip(), links, avatar, currency)
    with atomic(edge.db):
        audit.record(edge, "seller.profile_changed", actor_id=request.user.id, subject_id=request.user.id,
                     seller=slug, where=change.where)
    return flash.redirect(request, f"{PROFILE_PATH}?seller={slug}", change.said("Your seller page was saved."))


ROUTES = [
    Route("/seller", dashboard),
    Route("/seller/products/{slug}/unlist", _product_action("unlist"), methods=["POST"]),
    Route("/seller/products/{slug}/relist", _product_action("relist"), methods=["POST"]),
    Route("/seller/products/{slug}/delete", _product_action("delete"), methods=["POST"]),
    Route("/seller/claim", claim, methods=["POST"]),
    Route("/seller/statement", statement),
    Route(PROFILE_PATH, profile, methods=["GET", "POST"]),
]
