"""After paying: one order's files and its printable receipt, for a guest without a password.

Who may open an order here is decided as on the thank-you page (`shop.viewable_order`): the
signed-in account that placed it, or a browser that holds it as a guest order. A browser comes
to hold a guest order by placing it (the `dd_orders` cookie) or by opening the receipt email's
order link (`payments.receipts.order_link`, signed, ORDER_LINK_DAYS), which adds the order to
that browser's cookie. An expired link is still recognised as genuine: its page offers to email
a fresh one to the address the order was placed with (rate limited), and says nothing else.
The download links minted here are the library's, with every rule of `delivery.links`.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from checkout.delivery import library, links
from checkout.payments import orders, receipts
from checkout.web import delivery, params, shop
from checkout.web.base import client_ip, edge_of
from checkout.web.pages import message, read_form, render

SHA256_CHECK = "sha256sum FILE (Linux), shasum -a 256 FILE (macOS), certutil -hashfile FILE SHA256 (Windows)"


def _order(request: Request, token: str | None) -> tuple[dict[str, Any], bool, bool]:
    """(the order, whether its link expired, whether the token let this browser in)."""
    reference = request.path_params["reference"]
    if token:
        order, expired = receipts.read_order_link(edge_of(request), token)
        if order["reference"] != reference or not order["guest"]:
            raise orders.unknown_order()
        return order, expired, True
    return shop.viewable_order(request, reference), False, False


def _files_page(request: Request, order: dict[str, Any], template: str = "edge/order_files.html") -> Response:
    edge = edge_of(request)
    return render(request, template, order=order, items=library.of_order(edge, order["id"]),
                  receipt=receipts.receipt(edge, order["reference"]), allowance=edge.settings.DOWNLOADS_PER_FILE,
                  hours=edge.settings.DOWNLOAD_LINK_HOURS, check=SHA256_CHECK)


def _expired(request: Request, token: str) -> Response:
    return render(request, "edge/order_link_expired.html", status=410, token=token,
                  reference=request.path_params["reference"], days=edge_of(request).settings.ORDER_LINK_DAYS)


def _admitted(request: Request, response: Response, order: dict[str, Any], via_token: bool) -> Response:
    if via_token:  # from now on this browser holds the order, as the one that placed it does
        shop.remember_order(request, response, order["reference"])
    return response


async def order_files(request: Request) -> Response:
    """The order's files: the receipt email's link, and the thank-you page's "your files"."""
    token = request.query_params.get("token") or None
    order, expired, via_token = _order(request, token)
    if expired:
        return _expired(request, token or "")
    if order["status"] not in orders.PAID_STATES:
        return RedirectResponse(f"/checkout/callback?reference={order['reference']}", status_code=303)
    return _admitted(request, _files_page(request, order), order, via_token)


async def order_receipt(request: Request) -> Response:
    """The printable receipt (the page prints as a plain document)."""
    token = request.query_params.get("token") or None
    order, expired, via_token = _order(request, token)
    if expired:
        return _expired(request, token or "")
    if order["status"] not in orders.PAID_STATES:
        raise orders.unknown_order()
    edge = edge_of(request)
    response = render(request, "edge/receipt.html", order=order, receipt=receipts.receipt(edge, order["reference"]))
    return _admitted(request, response, order, via_token)


async def order_link(request: Request) -> Response:
    """A Download button of the order's files: mint the library's link for the order's account."""
    edge = edge_of(request)
    order = shop.viewable_order(request, request.path_params["reference"])
    form = await read_form(request)
    purchase_id = params.form_id(form, "purchase_id", "Choose a file of this order.")
    sha = str(form.get("sha256", ""))
    token = links.mint_for_order(edge, order, purchase_id, sha)
    # a PDF of a `stamp_pdfs` product is stamped for its buyer first, as from the library (issue #18)
    if await delivery.prepare_stamp(edge, purchase_id, sha) == "preparing":
        files = f"/orders/{order['reference']}/files"
        return delivery.preparing(request, files, "Back to your order")
    return RedirectResponse(f"/download/{token}", status_code=303)


async def resend_link(request: Request) -> Response:
    """An expired order link's button: a fresh link goes to the order's own address."""
    form = await read_form(request)
    token = str(form.get("token", ""))
    order, _ = receipts.read_order_link(edge_of(request), token)
    if order["reference"] != request.path_params["reference"] or not order["guest"]:
        raise orders.unknown_order()
    receipts.resend_order_link(edge_of(request), order, client_ip(request))
    return message(request, "Check your email",
                   "We have emailed a fresh link to the address this order was placed with. It opens this order's "
                   "files and receipt; no password is needed.")


ROUTES = [
    Route("/orders/{reference}/files", order_files),
    Route("/orders/{reference}/receipt", order_receipt),
    Route("/orders/{reference}/link", order_link, methods=["POST"]),
    Route("/orders/{reference}/files/resend", resend_link, methods=["POST"]),
]
