"""The public API, version 1 (`/api/v1/`, issue #21): personal access tokens, and for buyers
their orders and library, for sellers their products, sales, refunds, payouts and balances.

Every operation is an `Operation` in `OPERATIONS` (`checkout.web.api_registry`): the routes and
the OpenAPI document come from this list. Ownership is checked by asking the package modules
for the caller's own records only, so another account's id answers 404 like a missing one.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool

from checkout.accounts import api_tokens
from checkout.accounts import standing as accounts_standing
from checkout.core.errors import NotFound
from checkout.delivery import library, links, listings
from checkout.payments import listings as money
from checkout.payments import payouts
from checkout.web import delivery, params
from checkout.web.admin_users import run_action
from checkout.web.api_registry import (
    INTEGER,
    MONEY_SCHEMA,
    NULL_STRING,
    STRING,
    Call,
    Operation,
    Param,
    list_of,
    list_params,
    obj,
)

NULLABLE_INT = {"type": ["integer", "null"]}
BOOL = {"type": "boolean"}
TOKEN_MANAGEMENT = "manage:tokens"  # no personal token holds it (but admin:*): tokens are made by a person
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")

SCHEMAS: dict[str, dict[str, Any]] = {
    "Money": obj(["amount", "currency", "formatted"], amount=INTEGER, currency=STRING, formatted=STRING),
    "Token": obj(["id", "name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"],
                 id=INTEGER, name=STRING, prefix=STRING, scopes={"type": "array", "items": STRING},
                 created_at=STRING, last_used_at=NULL_STRING, last_used_ip=NULL_STRING, revoked_at=NULL_STRING),
    "OrderLine": obj(["id", "product_slug", "title", "seller", "price", "refunded", "refund_status"],
                     id=INTEGER, product_slug=STRING, title=STRING, seller=STRING, price=MONEY_SCHEMA,
                     refunded=BOOL, refund_status=NULL_STRING),
    "Order": obj(["id", "reference", "status", "total", "created_at", "paid_at", "lines"],
                 id=INTEGER, reference=STRING, status={"enum": list(money.ORDER_STATES)}, total=MONEY_SCHEMA,
                 created_at=STRING, paid_at=NULL_STRING,
                 lines={"type": "array", "items": {"$ref": "#/components/schemas/OrderLine"}}),
    "Sale": obj(["id", "order_reference", "product_slug", "title", "seller", "price", "fee", "net", "status",
                 "sold_at", "refunded_at", "released_at"],
                id=INTEGER, order_reference=STRING, product_slug=STRING, title=STRING, seller=STRING,
                price=MONEY_SCHEMA, fee=MONEY_SCHEMA, net=MONEY_SCHEMA, status={"enum": list(money.SALE_STATES)},
                sold_at=NULL_STRING, refunded_at=NULL_STRING, released_at=NULL_STRING),
    "Refund": obj(["id", "sale_id", "order_reference", "product_slug", "seller", "status", "amount", "reason",
                   "requested_at", "decided_at", "processed_at"],
                  id=INTEGER, sale_id=INTEGER, order_reference=STRING, product_slug=STRING, seller=STRING,
                  status={"enum": list(money.REFUND_STATES)}, amount=MONEY_SCHEMA, reason=STRING,
                  requested_at=STRING, decided_at=NULL_STRING, processed_at=NULL_STRING),
    "Payout": obj(["id", "reference", "seller", "status", "amount", "created_at", "updated_at"],
                  id=INTEGER, reference=STRING, seller=STRING, status={"enum": list(money.PAYOUT_STATES)},
                  amount=MONEY_SCHEMA, created_at=STRING, updated_at=STRING),
    "Balance": obj(["seller", "currency", "pending", "available", "payout_in_flight"], seller=STRING,
                   currency=STRING, pending=MONEY_SCHEMA, available=MONEY_SCHEMA, payout_in_flight=MONEY_SCHEMA),
    "LibraryItem": obj(["purchase_id", "slug", "status", "title", "version", "url", "bought_at", "files", "available"],
                       purchase_id=INTEGER, slug=STRING, status=STRING, title=STRING, version=STRING, url=STRING,
                       bought_at=STRING, available=BOOL,
                       files={"type": "array", "items": obj(["sha256", "used", "left"], sha256=STRING, used=INTEGER,
                                                            left=INTEGER)}),
    "Product": obj(["slug", "title", "seller", "state", "version", "price", "bought", "can_unlist", "can_relist"],
                   slug=STRING, title=STRING, seller=STRING, state=STRING, reason=STRING, version=STRING,
                   price=STRING, bought=INTEGER, can_unlist=BOOL, can_relist=BOOL, help=STRING),
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _sellers(call: Call) -> list[str]:
    return payouts.managed_sellers(call.edge, call.user)


# --- you and your tokens -------------------------------------------------------------------------------

async def get_me(call: Call) -> Any:
    u = call.user
    return {"id": u.id, "email": u["email"], "display_name": u["display_name"], "role": u.role,
            "email_verified": u["email_verified_at"] is not None, "created_at": u["created_at"],
            "token_scopes": list(u.token_scopes) if u.token_scopes is not None else None}


async def list_scopes(call: Call) -> Any:
    return {"data": [{"scope": name, "roles": list(roles), "description": text}
                     for name, (roles, text) in api_tokens.SCOPES.items()]}


async def list_tokens(call: Call) -> Any:
    return {"data": api_tokens.personal_of(call.edge, call.user.id, include_revoked=call.query.get("revoked") == "true")}


async def create_token(call: Call) -> Any:
    described, token = api_tokens.create_personal(call.edge, call.user, call.body.get("name"), call.body.get("scopes"),
                                                  call.ip)
    return {**described, "token": token}


async def get_token(call: Call) -> Any:
    return api_tokens.personal(call.edge, call.user.id, call.path_id("token_id"))


async def revoke_token(call: Call) -> Any:
    return api_tokens.revoke_personal(call.edge, call.user.id, call.path_id("token_id"), call.ip)


# --- buyers -------------------------------------------------------------------------------------------

async def list_orders(call: Call) -> Any:
    q = call.query
    return money.orders_page(call.edge, call.user.id, q.get("cursor"), call.limit(), q.get("status"),
                             q.get("created_after"), q.get("created_before")).as_json()


async def get_order(call: Call) -> Any:
    return money.order_of(call.edge, call.user.id, call.path_id("order_id"))


async def list_library(call: Call) -> Any:
    items = library.library(call.edge, call.user.id)
    return {"data": [{**i, "files": [{"sha256": f["sha256"], "name": f.get("name", ""), "size": f.get("size", 0),
                                      "used": f["used"], "left": f["left"]} for f in i["files"]]} for i in items]}


async def create_download_link(call: Call) -> Any:
    edge = call.edge
    sha = call.text("sha256", max_len=64)
    purchase_id = call.path_id("purchase_id")
    token = links.mint(edge, call.user.id, purchase_id, sha)
    if await delivery.prepare_stamp(edge, purchase_id, sha) == "preparing":  # a stamped PDF (issue #18)
        return 202, {"status": "preparing", "message": delivery.PREPARING}
    return 201, {"url": f"{edge.settings.CHECKOUT_URL}/download/{token}",
                 "expires_in": edge.settings.DOWNLOAD_LINK_HOURS * 3600}


# --- sellers --------------------------------------------------------------------------------------------

async def list_products(call: Call) -> Any:
    found = listings.products_of(call.edge, call.user, _sellers(call))
    keys = ("slug", "title", "seller", "state", "reason", "version", "price", "bought", "can_unlist", "can_relist", "help")
    return {"data": [{k: p.get(k, "") for k in keys} for p in found]}


def _slug(call: Call) -> str:
    slug = call.request.path_params.get("slug", "")
    if not SLUG.match(slug):
        raise NotFound("There is no product with that slug.")
    return slug


async def _product_change(call: Call, action: str) -> Any:
    fn = listings.unlist if action == "unlist" else listings.relist
    sellers = _sellers(call)
    slug = _slug(call)
    change = await run_in_threadpool(fn, call.edge, call.user, sellers, slug)
    done = f"{slug} is unlisted; its buyers keep their downloads." if action == "unlist" else f"{slug} is listed again."
    return {"slug": slug, "done": change.said(done) if change else done}


async def unlist_product(call: Call) -> Any:
    return await _product_change(call, "unlist")


async def relist_product(call: Call) -> Any:
    return await _product_change(call, "relist")


async def list_sales(call: Call) -> Any:
    q = call.query
    return money.sales_page(call.edge, _sellers(call), q.get("cursor"), call.limit(), q.get("status"),
                            q.get("created_after"), q.get("created_before"), q.get("product")).as_json()


async def get_sale(call: Call) -> Any:
    return money.sale_of(call.edge, _sellers(call), call.path_id("sale_id"))


async def list_refunds(call: Call) -> Any:
    q = call.query
    return money.refunds_page(call.edge, _sellers(call), q.get("cursor"), call.limit(), q.get("status"),
                              q.get("created_after"), q.get("created_before")).as_json()


async def list_payouts(call: Call) -> Any:
    q = call.query
    return money.payouts_page(call.edge, _sellers(call), q.get("cursor"), call.limit(), q.get("status"),
                              q.get("created_after"), q.get("created_before")).as_json()


async def list_balances(call: Call) -> Any:
    return {"data": money.balances_of(call.edge, _sellers(call))}


SELLER = ("seller", "admin")
TOKEN_ID = Param("token_id", "path", {"type": "integer", "minimum": 1})
TOKEN_BODY = obj(["name", "scopes"], name={"type": "string", "minLength": 1, "maxLength": 100},
                 scopes={"type": "array", "minItems": 1, "items": {"enum": list(api_tokens.SCOPES)}})
PRODUCT_SLUG = Param("slug", "path", {"type": "string", "pattern": SLUG.pattern})
CHANGED = obj(["slug", "done"], slug=STRING, done=STRING)

OPERATIONS: list[Operation] = [
    Operation("GET", "/api/v1/me", get_me, "You: the account the token belongs to, and the token's scopes",
              "read:account", obj(["id", "email", "display_name", "role", "email_verified", "created_at", "token_scopes"],
                                  id=INTEGER, email=STRING, display_name=STRING,
                                  role={"enum": ["buyer", "seller", "admin"]}, email_verified=BOOL, created_at=STRING,
                                  token_scopes={"type": ["array", "null"], "items": STRING}), "Account"),
    Operation("GET", "/api/v1/scopes", list_scopes, "Every scope a personal access token can carry", None,
              obj(["data"], data={"type": "array", "items": obj(["scope", "roles", "description"], scope=STRING,
                                                                 roles={"type": "array", "items": STRING},
                                                                 description=STRING)}), "Tokens"),
    Operation("GET", "/api/v1/tokens", list_tokens, "Your personal access tokens (never the tokens themselves)",
              TOKEN_MANAGEMENT, obj(["data"], data={"type": "array", "items": ref("Token")}), "Tokens",
              params=(Param("revoked", schema={"enum": ["true", "false"]}, description="Include revoked tokens."),),
              description="Tokens are managed with a first-party access token (`POST /api/auth/token`) or from "
                          "the account page, not with a personal token (unless it has `admin:*`)."),
    Operation("POST", "/api/v1/tokens", create_token, "Create a personal access token: it is shown once",
              TOKEN_MANAGEMENT, {"allOf": [ref("Token"), obj(["token"], token=STRING)]}, "Tokens",
              body=TOKEN_BODY, status=201, creates=True,
              description="The answer's `token` is the only time the token is shown; only its hash is kept."),
    Operation("GET", "/api/v1/tokens/{token_id}", get_token, "One of your tokens", TOKEN_MANAGEMENT, ref("Token"),
              "Tokens", params=(TOKEN_ID,)),
    Operation("DELETE", "/api/v1/tokens/{token_id}", revoke_token, "Revoke one of your tokens at once",
              TOKEN_MANAGEMENT, ref("Token"), "Tokens", params=(TOKEN_ID,)),
    Operation("GET", "/api/v1/orders", list_orders, "Your orders, newest first", "read:orders",
              list_of(ref("Order")), "Buyers", params=list_params(money.ORDER_STATES)),
    Operation("GET", "/api/v1/orders/{order_id}", get_order, "One of your orders", "read:orders", ref("Order"),
              "Buyers", params=(Param("order_id", "path", {"type": "integer", "minimum": 1}),)),
    Operation("GET", "/api/v1/library", list_library, "Everything you bought, with its files and downloads left",
              "read:library", obj(["data"], data={"type": "array", "items": ref("LibraryItem")}), "Buyers"),
    Operation("POST", "/api/v1/library/{purchase_id}/links", create_download_link,
              "A signed, expiring download link for one file of a purchase", "read:library",
              obj(["url", "expires_in"], url=STRING, expires_in=INTEGER), "Buyers", status=201,
              params=(Param("purchase_id", "path", {"type": "integer", "minimum": 1}),),
              body=obj(["sha256"], sha256={"type": "string", "minLength": 64, "maxLength": 64}),
              also=((202, "A stamped PDF is being prepared: ask again in a few seconds for its link",
                     obj(["status", "message"], status={"enum": ["preparing"]}, message=STRING)),),
              description="A PDF stamped with the buyer's name (issue #18) is made on the first request: the answer "
                          "is then `202` with `{\"status\": \"preparing\"}`; send the same request again a few "
                          "seconds later to get the `201` with the link."),
    Operation("GET", "/api/v1/products", list_products, "The products of the sellers you manage, with their state",
              "read:products", obj(["data"], data={"type": "array", "items": ref("Product")}), "Sellers", roles=SELLER),
    Operation("POST", "/api/v1/products/{slug}/unlist", unlist_product,
              "Unlist a product: it leaves the storefront on the next build; its buyers keep their downloads",
              "write:products", CHANGED, "Sellers", roles=SELLER, params=(PRODUCT_SLUG,)),
    Operation("POST", "/api/v1/products/{slug}/list", relist_product, "List an unlisted product again",
              "write:products", CHANGED, "Sellers", roles=SELLER, params=(PRODUCT_SLUG,)),
    Operation("GET", "/api/v1/sales", list_sales, "Sales of the sellers you manage, newest first", "read:sales",
              list_of(ref("Sale")), "Sellers", roles=SELLER,
              params=list_params(money.SALE_STATES, (Param("product", description="Only sales of this product slug."),))),
    Operation("GET", "/api/v1/sales/{sale_id}", get_sale, "One sale", "read:sales", ref("Sale"), "Sellers",
              roles=SELLER, params=(Param("sale_id", "path", {"type": "integer", "minimum": 1}),)),
    Operation("GET", "/api/v1/refunds", list_refunds, "Refund requests of your sales, newest first", "read:refunds",
              list_of(ref("Refund")), "Sellers", roles=SELLER, params=list_params(money.REFUND_STATES)),
    Operation("GET", "/api/v1/payouts", list_payouts, "Payouts of the sellers you manage, newest first",
              "read:payouts", list_of(ref("Payout")), "Sellers", roles=SELLER, params=list_params(money.PAYOUT_STATES)),
    Operation("GET", "/api/v1/balances", list_balances,
              "Balances from the ledger: pending (refund window), available, and on its way to the bank",
              "read:payouts", obj(["data"], data={"type": "array", "items": ref("Balance")}), "Sellers", roles=SELLER),
]


# --- admins ---------------------------------------------------------------------------------------------

async def admin_list_users(call: Call) -> Any:
    offset = params.bounded_int(call.query.get("offset", "0"), "offset", 0, 10**9)
    found = accounts_standing.search(call.edge, call.query.get("q", ""), call.limit(), offset)
    return {"data": [accounts_standing.describe(dict(u) | {"ban_reason": None}) for u in found]}


async def admin_get_user(call: Call) -> Any:
    return accounts_standing.describe(accounts_standing.account(call.edge, call.path_id("user_id")))


def _admin_action(action: str) -> Any:
    async def handler(call: Call) -> Any:
        user_id = call.path_id("user_id")
        accounts_standing.account(call.edge, user_id)  # 404 before any field check
        said = await run_action(call.edge, action, user_id, call.user, call.text("reason", action != "verify", 500),
                                "", call.ip)
        return {"done": said, "user": accounts_standing.describe(accounts_standing.account(call.edge, user_id))}
    handler.__name__ = f"admin_{action}_user"
    return handler


ADMIN = ("admin",)
USER_ID = Param("user_id", "path", {"type": "integer", "minimum": 1})
OPERATIONS += [
    Operation("GET", "/api/v1/admin/users", admin_list_users, "Accounts whose email or name contains q, newest first",
              "admin:*", obj(["data"], data={"type": "array", "items": {"$ref": "#/components/schemas/Account"}}),
              "Admin", roles=ADMIN, params=(Param("q"), Param("limit", schema={"type": "integer", "minimum": 1,
                                                                                  "maximum": 100}),
                                            Param("offset", schema={"type": "integer", "minimum": 0}))),
    Operation("GET", "/api/v1/admin/users/{user_id}", admin_get_user, "One account", "admin:*",
              {"$ref": "#/components/schemas/Account"}, "Admin", roles=ADMIN, params=(USER_ID,)),
    *[Operation("POST", f"/api/v1/admin/users/{{user_id}}/{action}", _admin_action(action), summary, "admin:*",
                obj(["done", "user"], done=STRING, user={"$ref": "#/components/schemas/Account"}), "Admin",
                roles=ADMIN, params=(USER_ID,),
                body=obj(["reason"] if action != "verify" else [], reason={"type": "string", "maxLength": 500}))
      for action, summary in (("ban", "Ban an account: sessions and tokens refused at once (audited)"),
                              ("unban", "Lift a ban (audited)"), ("verify", "Verify a seller (audited)"),
                              ("unverify", "Take a seller's badge away (audited)"))],
]
