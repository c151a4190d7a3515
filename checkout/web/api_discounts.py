"""The public API's discount codes (issues #17 and #21): a seller lists the codes of the sellers
they manage, with their uses, creates one, pauses and resumes it. The library is
`checkout.payments.discounts`; here are only the operations. Another seller's code answers 404."""

from __future__ import annotations

from typing import Any

from checkout.core.errors import NotFound, ValidationFailed
from checkout.payments import discounts, payouts
from checkout.payments.listings import money_json
from checkout.web.api_registry import INTEGER, MONEY_SCHEMA, NULL_STRING, STRING, Call, Operation, Param, obj
from digitaldock.money import CURRENCIES

ROLES = ("seller", "admin")
NULL_INT = {"type": ["integer", "null"]}
CODE_ID = Param("code_id", "path", {"type": "integer", "minimum": 1})
FIELDS = {"code", "seller", "percent", "amount", "currency", "products", "max_uses", "per_buyer", "min_order",
          "starts", "ends", "first_purchase_only"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "DiscountCode": obj(["id", "code", "seller", "describe", "percent", "amount", "paused", "starts_at", "ends_at",
                         "max_uses", "per_buyer", "min_order", "first_purchase_only", "products", "uses", "report",
                         "created_at"],
                        id=INTEGER, code=STRING, seller=STRING, describe=STRING, percent=NULL_STRING,
                        amount={"oneOf": [MONEY_SCHEMA, {"type": "null"}]}, paused={"type": "boolean"},
                        starts_at=NULL_STRING, ends_at=NULL_STRING, max_uses=NULL_INT, per_buyer=NULL_INT,
                        min_order={"oneOf": [MONEY_SCHEMA, {"type": "null"}]},
                        first_purchase_only={"type": "boolean"}, products={"type": "array", "items": STRING},
                        uses=INTEGER, created_at=STRING,
                        report={"type": "array", "items": obj(["currency", "uses", "discount", "revenue"],
                                                              currency=STRING, uses=INTEGER, discount=MONEY_SCHEMA,
                                                              revenue=MONEY_SCHEMA)}),
}
CODE_SCHEMA = {"$ref": "#/components/schemas/DiscountCode"}


def _described(c: dict[str, Any]) -> dict[str, Any]:
    bps = c["percent_bps"]
    percent = None if bps is None else (f"{bps // 100}.{bps % 100:02d}".rstrip("0").rstrip("."))
    return {"id": c["id"], "code": c["code_key"], "seller": c["seller"], "describe": c["describe"], "percent": percent,
            "amount": money_json(c["amount"], c["currency"]) if c["amount"] is not None else None,
            "paused": bool(c["paused"]), "starts_at": c["starts_at"], "ends_at": c["ends_at"],
            "max_uses": c["max_uses"], "per_buyer": c["per_buyer"],
            "min_order": money_json(c["min_order"], c["currency"]) if c["min_order"] is not None else None,
            "first_purchase_only": bool(c["first_purchase_only"]), "products": c["products"], "uses": c["uses"],
            "report": [{"currency": r["currency"], "uses": r["uses"],
                        "discount": money_json(r["discount"].minor, r["currency"]),
                        "revenue": money_json(r["revenue"].minor, r["currency"])} for r in c["report"]],
            "created_at": c["created_at"]}


def _codes(call: Call) -> list[dict[str, Any]]:
    return [c for s in payouts.managed_sellers(call.edge, call.user) for c in discounts.listing(call.edge, s)]


def _code(call: Call) -> dict[str, Any]:
    code_id = call.path_id("code_id")
    for c in _codes(call):
        if c["id"] == code_id:
            return c
    raise NotFound("There is no discount code with this id.", code="unknown_discount_code")


async def list_discounts(call: Call) -> Any:
    return {"data": [_described(c) for c in _codes(call)]}


async def get_discount(call: Call) -> Any:
    return _described(_code(call))


def _seller(call: Call) -> str:
    sellers = payouts.managed_sellers(call.edge, call.user)
    seller = call.body.get("seller")
    if seller is None:
        if len(sellers) == 1:
            return sellers[0]
        raise ValidationFailed(fields={"seller": "name the seller (one you manage) the code is for"})
    if not isinstance(seller, str) or seller not in sellers:
        raise ValidationFailed(fields={"seller": "must be a seller you manage"})
    return seller


def _int_or_none(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValidationFailed(fields={key: "must be a whole number"})
    return value


async def create_discount(call: Call) -> Any:
    body = call.body
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ValidationFailed(fields={unknown[0][:40]: "is not a field of a discount code"})
    seller = _seller(call)
    percent = body.get("percent")
    if percent is not None and (isinstance(percent, bool) or not isinstance(percent, (str, int, float))):
        raise ValidationFailed(fields={"percent": "A percentage from 0.01 to 100, at most two decimals."})
    currency = body.get("currency")
    if currency is not None and (not isinstance(currency, str) or currency not in CURRENCIES):
        raise ValidationFailed(fields={"currency": f"One of {', '.join(CURRENCIES)}."})
    products = body.get("products", [])
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products) or len(products) > 500:
        raise ValidationFailed(fields={"products": "must be a list of product slugs"})
    for key in ("starts", "ends"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ValidationFailed(fields={key: "An ISO date or time, e.g. 2026-12-24 or 2026-12-24T18:00."})
    first = body.get("first_purchase_only", False)
    if not isinstance(first, bool):
        raise ValidationFailed(fields={"first_purchase_only": "must be true or false"})
    code_id = discounts.create(
        call.edge, body.get("code"), percent=None if percent is None else str(percent),  # type: ignore[arg-type]
        amount=_int_or_none(body, "amount"), currency=currency, products=products, seller=seller,
        max_uses=_int_or_none(body, "max_uses"), per_buyer=_int_or_none(body, "per_buyer"),
        min_order=_int_or_none(body, "min_order"), starts=body.get("starts"), ends=body.get("ends"),
        first_purchase_only=first, actor_id=call.user.id)
    return next(_described(c) for c in discounts.listing(call.edge, seller) if c["id"] == code_id)


def _pause(paused: bool) -> Any:
    async def handler(call: Call) -> Any:
        found = _code(call)
        discounts.set_paused(call.edge, found["code_key"], paused, found["seller"], call.user.id)
        return _described(_code(call))
    handler.__name__ = "pause_discount" if paused else "resume_discount"
    return handler


BASE = "/api/v1/discounts"
CREATE_BODY = {"type": "object", "required": ["code"], "additionalProperties": False, "properties": {
    "code": {"type": "string", "pattern": discounts.CODE.pattern.replace("A-Z", "A-Za-z")},
    "seller": {"type": "string", "description": "The seller the code is for (needed when you manage several)."},
    "percent": {"type": "string", "description": "A percentage off, e.g. \"12.5\" (or give amount and currency)."},
    "amount": {"type": "integer", "minimum": 1, "description": "A fixed amount off, in minor units."},
    "currency": {"enum": list(CURRENCIES)},
    "products": {"type": "array", "items": STRING, "description": "Only these products (default: all of yours)."},
    "max_uses": {"type": "integer", "minimum": 1}, "per_buyer": {"type": "integer", "minimum": 1},
    "min_order": {"type": "integer", "minimum": 1}, "starts": STRING, "ends": STRING,
    "first_purchase_only": {"type": "boolean"}}}

OPERATIONS: list[Operation] = [
    Operation("GET", BASE, list_discounts, "Discount codes of the sellers you manage, with their uses and revenue",
              "read:discounts", obj(["data"], data={"type": "array", "items": CODE_SCHEMA}), "Discounts", roles=ROLES),
    Operation("POST", BASE, create_discount, "Create a discount code for your products", "write:discounts",
              CODE_SCHEMA, "Discounts", roles=ROLES, body=CREATE_BODY, status=201, creates=True,
              description="A percentage (`percent`) or a fixed amount (`amount` with `currency`), not both. "
                          "The code costs the seller (see docs/promotions.md)."),
    Operation("GET", BASE + "/{code_id}", get_discount, "One of your discount codes, with its uses", "read:discounts",
              CODE_SCHEMA, "Discounts", roles=ROLES, params=(CODE_ID,)),
    Operation("POST", BASE + "/{code_id}/pause", _pause(True), "Pause a code: buyers can no longer apply it",
              "write:discounts", CODE_SCHEMA, "Discounts", roles=ROLES, params=(CODE_ID,)),
    Operation("POST", BASE + "/{code_id}/resume", _pause(False), "Resume a paused code", "write:discounts",
              CODE_SCHEMA, "Discounts", roles=ROLES, params=(CODE_ID,)),
]
