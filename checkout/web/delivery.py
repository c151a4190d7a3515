"""Delivery pages: the library (`/library`), minting a link (`POST /library/link`) and redeeming it
(`/download/<token>`): a 302 to a presigned S3/R2 URL, or the local file streamed with Range,
HEAD, ETag and Content-Length (Starlette's FileResponse reads it in chunks, so memory stays flat).

What is served uncounted is exactly what the rules allow (checkout/delivery/links.py): a resume
is answered with the one range it was granted for, whatever else the request carries (an
`If-Range` that does not match would otherwise make FileResponse send the whole file), and a
presigned URL, which serves the whole file to whoever holds it, is only handed out for a
counted download: HEAD on S3 gets the headers from the edge, and S3 resumes are new downloads.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from checkout.core.errors import EdgeError, NotFound
from checkout.delivery import errors, library, links, previews, ranges, stamping, storage
from checkout.web import params, shop
from checkout.web.auth import authorize, requires
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import read_form, render
from digitaldock.storage import StorageError, content_disposition

log = structlog.get_logger("checkout.delivery")


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def warm_up(edge: Any) -> None:
    """Build the storage client and presign once at startup, so the first downloads after a
    start do not wait behind importing boto3 and loading its models (about 0.4 s)."""
    try:
        storage.storage(edge).presigned_url("warm-up", "warm-up", 60)
    except (EdgeError, StorageError):  # storage() logged it; each download answers it again
        log.warning("storage_warm_up_failed")


@requires()
async def library_page(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    return render(request, "edge/library.html", items=library.library(edge, user["id"]),
                  downloads=library.history(edge, user["id"], 50),
                  allowance=edge.settings.DOWNLOADS_PER_FILE, hours=edge.settings.DOWNLOAD_LINK_HOURS)


async def prepare_stamp(edge: Any, purchase_id: int, sha256: str) -> str:
    """Stamp the buyer's copy of a PDF before its first link (checkout/delivery/stamping.py):
    the database rows on this thread, the PDF work in a worker thread, off the event loop.
    Every way a link is minted calls it (library, a guest's order page, the API)."""
    purchase = library.owned_purchase(edge, purchase_id)
    prod = library.product(edge, purchase["product_slug"]) if purchase else None
    file = next((f for f in prod.files if f.sha256 == sha256), None) if prod else None
    job = stamping.job_for(edge, purchase_id, sha256, prod, file)
    if job is None:
        return "none"
    state = stamping.begin(edge, purchase_id, sha256)
    if state != "go":
        return state
    outcome = await run_in_threadpool(stamping.stamp_file, storage.storage(edge), job.key, job.out_key, job.mark)
    stamping.finish(edge, purchase_id, sha256, outcome)
    return outcome.status


PREPARING = "Your personalised copy of this file is being prepared. Please try again in a minute."


def preparing(request: Request, back: str, label: str) -> Response:
    """The 202 of a link asked for while another request stamps the same file."""
    if _wants_json(request):
        return JSONResponse({"status": "preparing", "message": PREPARING}, status_code=202,
                            headers={"Retry-After": "30"})
    return render(request, "edge/message.html", status=202, title="Preparing your file", text=PREPARING,
                  links=[(back, label)])


@requires()
async def mint_link(request: Request) -> Response:
    edge = edge_of(request)
    user = request.user
    form = await read_form(request)
    purchase_id = params.form_id(form, "purchase_id", "Choose a purchase from your library.")
    sha = str(form.get("sha256", ""))
    token = links.mint(edge, user["id"], purchase_id, sha)
    if await prepare_stamp(edge, purchase_id, sha) == "preparing":
        return preparing(request, "/library", "Back to your library")
    path = f"/download/{token}"
    if _wants_json(request):
        return JSONResponse({"url": edge.settings.CHECKOUT_URL + path,
                             "expires_in": edge.settings.DOWNLOAD_LINK_HOURS * 3600})
    return RedirectResponse(path, status_code=303)


class RangeFileResponse(FileResponse):
    """A FileResponse that serves `byte_range` and nothing else: the request's own Range and
    If-Range headers are replaced before FileResponse reads them."""

    def __init__(self, *args: Any, byte_range: ranges.ByteRange, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.byte_range = byte_range

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in (b"range", b"if-range")]
        headers.append((b"range", self.byte_range.header().encode()))
        await super().__call__({**scope, "headers": headers}, receive, send)


def _downloader(request: Request, token: str) -> tuple[int, str | None]:
    """(the account a download is redeemed for, the order reference when it is redeemed as a
    guest). A browser that holds the order the link's purchase came from (it placed the order, or
    opened the receipt email's link) downloads without a password; anyone else must be signed in
    as the link's owner, as before. Every rule of `links.redeem` applies either way."""
    try:
        owner, reference = links.holder(edge_of(request), token)
    except EdgeError:  # forged: the signed-in path reports it
        owner, reference = 0, None
    if reference is not None and reference in shop.browser_orders(request):
        shop.viewable_order(request, reference)  # a guest order only (404 otherwise, as for anyone)
        return owner, reference
    return authorize(request, consent_first=False)["id"], None


async def download(request: Request) -> Response:
    edge = edge_of(request)
    token = request.path_params["token"]
    user_id, guest_order = _downloader(request, token)
    store = storage.storage(edge)
    presigned = storage.presigns(edge)
    head = request.method == "HEAD"
    # several Range headers are as malformed as a bad one: no resume
    asked = request.headers.getlist("range")
    byte_range = ranges.parse(asked[0]) if len(asked) == 1 and not presigned else None
    try:
        grant = links.redeem(edge, token, user_id, ip=client_ip(request),
                             user_agent=request.headers.get("user-agent", ""), head=head, resume=byte_range)
    except (errors.LinkExpired, errors.LinkUsed) as exc:
        if _wants_json(request):
            raise
        return render(request, "edge/download_refused.html", status=exc.status, message=exc.message,
                      purchase_id=exc.extra["purchase_id"], sha256=exc.extra["sha256"], guest_order=guest_order)
    swap = stamping.served(edge, grant.purchase_id, grant.sha256)
    if swap is not None:  # the buyer's stamped copy, through the same counted link
        grant = dataclasses.replace(grant, key=swap[0], size=swap[1], sha256=swap[2])
    headers = {"etag": f'"{grant.sha256}"', "cache-control": "private, no-store"}
    if presigned and head:
        return Response(status_code=200, media_type="application/octet-stream", headers={
            **headers, "content-length": str(grant.size), "content-disposition": content_disposition(grant.name)})
    url = store.presigned_url(grant.key, grant.name, edge.settings.PRESIGN_SECONDS)
    if url:
        return RedirectResponse(url, status_code=302)
    path = store.local_path(grant.key)
    if path is None:
        log.error("download_file_missing", key=grant.key)
        raise NotFound("This file is missing from storage; we have been told. Please try again later.",
                       code="file_missing")
    if not grant.counted and not head and byte_range is not None:
        return RangeFileResponse(path, filename=grant.name, content_disposition_type="attachment",
                                 media_type="application/octet-stream", headers=headers, byte_range=byte_range)
    return FileResponse(path, filename=grant.name, content_disposition_type="attachment",
                        media_type="application/octet-stream", headers=headers)


async def preview(request: Request) -> Response:
    """A product's public preview by its SHA-256 (`checkout.delivery.previews`): anyone may
    fetch it, shown inline (a player, the browser's page viewer), cached as the file it names."""
    edge = edge_of(request)
    found = previews.find(edge, request.path_params["sha256"])
    store = storage.storage(edge)
    url = store.presigned_url(found.key, found.name, edge.settings.PRESIGN_SECONDS)
    if url:
        return RedirectResponse(url, status_code=302)
    path = store.local_path(found.key)
    if path is None:
        log.error("preview_file_missing", key=found.key)
        raise NotFound("This preview is missing from storage; we have been told.", code="file_missing")
    return FileResponse(path, filename=found.name, content_disposition_type="inline",
                        media_type=previews.media_type(found),
                        headers={"etag": f'"{found.sha256}"', "cache-control": "public, max-age=86400"})


ROUTES = [
    Route("/preview/{sha256}", preview, methods=["GET", "HEAD"]),
    Route("/library", library_page),
    Route("/library/link", mint_link, methods=["POST"]),
    Route("/download/{token}", download, methods=["GET", "HEAD"]),
]
