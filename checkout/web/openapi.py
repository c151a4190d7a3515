"""The OpenAPI 3.1 document of /api/.

The public API (`/api/v1/`) is generated from its operations (`checkout.web.api_registry`, one
list for routes and document); the first-party endpoints of earlier issues (`/api/auth`,
`/api/me`, `/api/admin`) are still described here by hand and merged in.
"""

from __future__ import annotations

from typing import Any

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None, auth: bool = False,
        params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, "default": _json(ERROR, "An error")}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if auth:
        op["security"] = [{"bearer": []}]
    if params:
        op["parameters"] = params
    return op


def spec(server_url: str, operations: list[Any] = (), schemas: dict[str, Any] | None = None,  # type: ignore[assignment]
         paths_of: Any = None) -> dict[str, Any]:
    """The whole document: the generated `/api/v1/` paths (`paths_of(operations)`) and the
    hand-written first-party ones."""
    doc = _first_party(server_url)
    doc["components"]["schemas"].update(schemas or {})
    if paths_of is not None:
        doc["paths"].update(paths_of(list(operations)))
    doc["paths"]["/api/openapi.json"]["get"]["tags"] = ["Documents"]
    doc["tags"] = [{"name": "Tokens", "description": "Personal access tokens: made by a person, used by scripts."},
                   {"name": "Account", "description": "The account a token belongs to."},
                   {"name": "Buyers", "description": "Orders, the library and download links."},
                   {"name": "Sellers", "description": "Products, sales, refunds, payouts and balances."},
                   {"name": "Webhooks", "description": "Endpoints that receive signed events, and their deliveries."},
                   {"name": "Admin", "description": "Accounts: find, ban, verify (tokens with admin:*)."}]
    doc["info"]["description"] = (
        "The public API is under `/api/v1/`: send a personal access token (`ddp_...`) as "
        "`Authorization: Bearer <token>`; each operation names the scope it needs. Lists are "
        "newest first with cursor pagination (`limit`, `cursor` = the previous page's `next_cursor`) "
        "and filters by time (`created_after`, `created_before`) and state (`status`). Reads carry an "
        "`ETag` (send it back as `If-None-Match` for a 304); POSTs that create something take an "
        "`Idempotency-Key` (the same key gets the same answer). Every error is `{code, message}`, with "
        "`fields` naming what to fix. The other paths are the first-party endpoints of the site itself.")
    return doc


def _first_party(server_url: str) -> dict[str, Any]:
    s = {"type": "string"}
    doc = {"type": "object", "required": ["slug", "title", "version", "effective", "url"],
           "properties": {k: s for k in ("slug", "title", "version", "effective", "url")}}
    limit = {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}
    account = {"type": "object", "required": ["id", "email", "display_name", "role", "created_at", "email_verified",
                                              "banned", "verified", "deletion_requested"],
               "properties": {"id": {"type": "integer"}, "email": s, "display_name": s,
                              "role": {"enum": ["buyer", "seller", "admin"]}, "created_at": s,
                              "email_verified": {"type": "boolean"}, "banned": {"type": "boolean"},
                              "banned_at": {"type": ["string", "null"]}, "ban_reason": {"type": ["string", "null"]},
                              "verified": {"type": "boolean"}, "verified_at": {"type": ["string", "null"]},
                              "deletion_requested": {"type": "boolean"}}}
    user_id = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    day = {"type": "string", "format": "date"}
    report_params = [{"name": "from", "in": "query", "required": False, "schema": day},
                     {"name": "to", "in": "query", "required": False, "schema": day},
                     {"name": "period", "in": "query", "required": False, "schema": {"enum": ["day", "week", "month"]}},
                     {"name": "group", "in": "query", "required": False,
                      "schema": {"enum": ["currency", "seller", "product", "category"]}}]
    done = {"type": "object", "required": ["done", "user"],
            "properties": {"done": s, "user": {"$ref": "#/components/schemas/Account"}}}
    reason = {"type": "object", "required": ["reason"], "properties": {"reason": s}}

    review = {"type": "object", "required": ["id", "product", "rating", "title", "body", "author", "created_at"],
              "properties": {"id": {"type": "integer"}, "product": s, "rating": {"type": "integer", "minimum": 1,
                                                                                  "maximum": 5},
                             "title": s, "body": s, "author": s, "created_at": s, "updated_at": s,
                             "helpful": {"type": "integer"}, "reply": {"type": ["string", "null"]},
                             "replied_at": {"type": ["string", "null"]},
                             "status": {"enum": ["pending", "approved", "hidden"]},
                             "held_reason": {"type": ["string", "null"]}, "hidden_reason": {"type": ["string", "null"]}}}
    review_ref = {"$ref": "#/components/schemas/Review"}
    review_id = {"name": "review_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    review_body = {"type": "object", "required": ["rating"],
                   "properties": {"rating": {"type": "integer", "minimum": 1, "maximum": 5},
                                  "title": {"type": "string", "maxLength": 120},
                                  "body": {"type": "string", "maxLength": 5000}}}

    def action(summary: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"post": _op(summary, {"200": _json(done, "Done")}, auth=True, body=body, params=[user_id])}
    return {
        "openapi": "3.1.0",
        "info": {"title": "DigitalDock checkout edge", "version": "1",
                 "description": "Accounts, consent, data-subject rights and the admin console's accounts and "
                                "reports. Errors are `{code, message}`."},
        "servers": [{"url": server_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "A personal access token (`ddp_...`) or a first-party JWT access token."}},
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": s, "message": s, "fields": {"type": "object"},
                                         "documents": {"type": "array", "items": doc}}},
                "Tokens": {"type": "object", "required": ["access_token", "token_type", "expires_in", "refresh_token"],
                           "properties": {"access_token": s, "token_type": {"const": "bearer"},
                                          "expires_in": {"type": "integer"}, "refresh_token": s}},
                "Profile": {"type": "object", "required": ["id", "email", "display_name", "role", "email_verified", "created_at"],
                            "properties": {"id": {"type": "integer"}, "email": s, "display_name": s,
                                           "role": {"enum": ["buyer", "seller", "admin"]},
                                           "email_verified": {"type": "boolean"}, "created_at": s}},
                "LegalDocument": doc,
                "Account": account,
                "Review": review,
            },
        },
        "paths": {
            **license_paths(),
            "/api/auth/token": {"post": _op(
                "Get an access token (password grant) or rotate a refresh token",
                {"200": _json({"$ref": "#/components/schemas/Tokens"}, "Tokens")},
                body={"oneOf": [
                    {"type": "object", "required": ["grant_type", "email", "password"],
                     "properties": {"grant_type": {"const": "password"}, "email": s, "password": s}},
                    {"type": "object", "required": ["grant_type", "refresh_token"],
                     "properties": {"grant_type": {"const": "refresh_token"}, "refresh_token": s}}]})},
            "/api/auth/revoke": {"post": _op(
                "Revoke a refresh token and every token rotated from the same sign-in",
                {"200": _json({"type": "object", "properties": {"revoked": {"type": "boolean"}}}, "Revoked")},
                body={"type": "object", "required": ["refresh_token"], "properties": {"refresh_token": s}})},
            "/api/users": {"post": _op(
                "Register (accept = slugs of the legal documents accepted). The answer is the same whether "
                "or not the address already has an account (its owner is emailed instead): check your email",
                {"202": _json({"type": "object", "required": ["email", "message"],
                               "properties": {"email": s, "message": s}}, "Check your email")},
                body={"type": "object", "required": ["email", "password", "display_name", "accept"],
                      "properties": {"email": s, "password": s, "display_name": s,
                                     "role": {"enum": ["buyer", "seller"]},
                                     "accept": {"type": "array", "items": s}}})},
            "/api/legal": {"get": _op("Current legal documents", {"200": _json(
                {"type": "object", "required": ["documents"],
                 "properties": {"documents": {"type": "array", "items": doc}}}, "Documents")})},
            "/api/me": {"get": _op("The signed-in user (403 consent_required if a legal document changed)",
                                   {"200": _json({"$ref": "#/components/schemas/Profile"}, "Profile")}, auth=True)},
            "/api/me/consents": {
                "get": _op("Outstanding and accepted legal documents", {"200": _json(
                    {"type": "object", "required": ["outstanding", "accepted"],
                     "properties": {"outstanding": {"type": "array", "items": doc}, "accepted": {"type": "object"}}},
                    "Consent state")}, auth=True),
                "post": _op("Accept the current versions", {"200": _json(
                    {"type": "object", "required": ["outstanding", "accepted"],
                     "properties": {"outstanding": {"type": "array", "items": doc}, "accepted": {"type": "object"}}},
                    "Consent state")}, auth=True,
                    body={"type": "object", "required": ["accept"], "properties": {"accept": {"type": "array", "items": s}}}),
            },
            "/api/me/export": {"get": _op("Everything held about the user (GDPR export)",
                                          {"200": _json({"type": "object"}, "Export")}, auth=True)},
            "/api/me/deletion": {"post": _op(
                "Request account deletion: disabled now, anonymised after the grace period",
                {"202": _json({"type": "object", "required": ["disabled", "anonymise_after"],
                               "properties": {"disabled": {"type": "boolean"}, "anonymise_after": s}}, "Accepted")},
                auth=True, body={"type": "object", "required": ["password"], "properties": {"password": s}})},
            "/api/admin/audit": {"get": _op("Audit log (admins)", {"200": _json(
                {"type": "object", "required": ["entries"], "properties": {"entries": {"type": "array"}}}, "Entries")},
                auth=True, params=[limit])},
            "/api/admin/outbox": {"get": _op("Email outbox (admins)", {"200": _json(
                {"type": "object", "required": ["emails"], "properties": {"emails": {"type": "array"}}}, "Emails")},
                auth=True, params=[limit, {"name": "status", "in": "query", "required": False,
                                           "schema": {"enum": ["pending", "sending", "sent", "dead"]}}])},
            "/api/admin/outbox/{outbox_id}/resend": {"post": _op("Re-queue a dead or sent email (admins)", {"200": _json(
                {"type": "object", "properties": {"queued": {"type": "boolean"}}}, "Queued")}, auth=True,
                params=[{"name": "outbox_id", "in": "path", "required": True, "schema": {"type": "integer"}}])},
            "/api/admin/users": {"get": _op("Accounts whose email or name contains q, newest first (admins)", {"200": _json(
                {"type": "object", "required": ["users"],
                 "properties": {"users": {"type": "array", "items": {"$ref": "#/components/schemas/Account"}}}},
                "Accounts")}, auth=True, params=[limit, {"name": "q", "in": "query", "required": False, "schema": s},
                                                 {"name": "offset", "in": "query", "required": False,
                                                  "schema": {"type": "integer", "minimum": 0}}])},
            "/api/admin/users/{user_id}": {"get": _op("One account with its orders, purchases, sellers and audit trail "
                                                      "(admins)", {"200": _json({"type": "object"}, "Account")},
                                                      auth=True, params=[user_id])},
            "/api/admin/users/{user_id}/ban": action(
                "Ban: sessions and API tokens revoked at once, sign-in refused, the account's sellers unlisted on the "
                "next build and their payouts held (admins; audited)", reason),
            "/api/admin/users/{user_id}/unban": action("Lift a ban (admins; audited)", reason),
            "/api/admin/users/{user_id}/verify": action("Verify a seller: the storefront's badge (admins; audited)",
                                                        {"type": "object"}),
            "/api/admin/users/{user_id}/unverify": action("Take a seller's badge away (admins; audited)", reason),
            "/api/admin/users/{user_id}/role": action(
                "Change an account's role (admins; audited)",
                {"type": "object", "required": ["role"], "properties": {"role": {"enum": ["buyer", "seller", "admin"]}}}),
            "/api/admin/reports/sales": {"get": _op(
                "Sales and revenue from the ledger for a range of UTC days, per period and currency, seller, product or "
                "category; amounts in minor units per currency (admins)", {"200": _json(
                    {"type": "object", "required": ["from", "to", "period", "group", "rows", "totals"],
                     "properties": {"from": s, "to": s, "period": s, "group": s,
                                    "rows": {"type": "array", "items": {"type": "object"}},
                                    "totals": {"type": "object"}}}, "Report")}, auth=True, params=report_params)},
            "/api/products/search": {"get": _op(
                "Search the catalogue with the storefront's rules (words of titles, tags, seller, category and "
                "description; lofi = lo-fi = Lo Fi; prefixes; small typos): one page of results, facet counts that "
                "follow the query, suggestions when nothing matches (`available` false and no results until the "
                "storefront is built)",
                {"200": _json({"type": "object", "required": ["query", "total", "page", "per_page", "results", "facets",
                                                              "suggestions"],
                               "properties": {"available": {"type": "boolean"}, "query": s,
                                              "words": {"type": "array", "items": s}, "sort": s,
                                              "filters": {"type": "object"}, "total": {"type": "integer"},
                                              "page": {"type": "integer"}, "per_page": {"type": "integer"},
                                              "results": {"type": "array", "items": {"type": "object"}},
                                              "facets": {"type": "object"},
                                              "suggestions": {"type": "array", "items": s}}}, "Results")},
                params=[{"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200}},
                        {"name": "category", "in": "query", "required": False,
                         "schema": {"type": "array", "items": s}, "description": "category names, any of them"},
                        {"name": "price", "in": "query", "required": False, "schema": {"type": "array", "items": s},
                         "description": "price bands of one currency each, such as USD:1 or NGN:0"},
                        {"name": "rating", "in": "query", "required": False,
                         "schema": {"type": "array", "items": {"enum": ["1", "2", "3", "4"]}},
                         "description": "at least this many stars"},
                        {"name": "sort", "in": "query", "required": False,
                         "schema": {"enum": ["", "newest", "price-low", "price-high", "rating"]}},
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
            "/api/reviews": {"post": _op(
                "Review a product you own (a purchase not refunded): one per buyer and product. Held for a "
                "moderator when REVIEW_MODERATION says so (by default: a link in the text, or an account younger "
                "than a day); 403 not_a_buyer without a purchase",
                {"201": _json(review_ref, "The review, as its author sees it")}, auth=True,
                body={**review_body, "required": ["product", "rating"],
                      "properties": {**review_body["properties"], "product": s}})},
            "/api/reviews/product/{product}": {"get": _op(
                "A product's approved reviews from buyers who still own it, paginated, with the aggregate",
                {"200": _json({"type": "object", "required": ["product", "aggregate", "page", "per_page", "total",
                                                              "reviews"],
                               "properties": {"product": s, "sort": s, "page": {"type": "integer"},
                                              "per_page": {"type": "integer"}, "total": {"type": "integer"},
                                              "aggregate": {"type": "object", "properties": {
                                                  "count": {"type": "integer"}, "average": {"type": ["string", "null"]},
                                                  "histogram": {"type": "array", "items": {"type": "integer"}}}},
                                              "reviews": {"type": "array", "items": review_ref}}}, "Reviews")},
                params=[{"name": "product", "in": "path", "required": True, "schema": s},
                        {"name": "sort", "in": "query", "required": False,
                         "schema": {"enum": ["newest", "highest", "lowest", "helpful"]}},
                        {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                        {"name": "per_page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 50}}])},
            "/api/reviews/{review_id}": {
                "put": _op("Edit your own review (judged by moderation again)",
                           {"200": _json(review_ref, "The review")}, auth=True, body=review_body, params=[review_id]),
                "delete": _op("Delete your own review", {"204": {"description": "Deleted"}}, auth=True,
                              params=[review_id]),
            },
            "/api/reviews/{review_id}/approve": {"post": _op(
                "Approve a held or hidden review (admins; audited)", {"200": _json(review_ref, "The review")},
                auth=True, params=[review_id])},
            "/api/reviews/{review_id}/hide": {"post": _op(
                "Hide a review with a reason, kept in the audit log and emailed to its author (admins)",
                {"200": _json(review_ref, "The review")}, auth=True, params=[review_id], body=reason)},
            "/api/reviews/{review_id}/report": {"post": _op(
                "Report a review to the moderators (any signed-in account)",
                {"202": _json({"type": "object", "properties": {"reported": {"type": "boolean"}}}, "Reported")},
                auth=True, params=[review_id], body=reason)},
            "/api/reviews/{review_id}/reply": {"post": _op(
                "The product's seller replies publicly, once", {"200": _json(review_ref, "The review")}, auth=True,
                params=[review_id], body={"type": "object", "required": ["reply"], "properties": {"reply": s}})},
            "/api/openapi.json": {"get": {"summary": "This document", "responses": {
                "200": {"description": "OpenAPI", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
    }


def license_paths() -> dict[str, Any]:
    """The license API (issue #18): no account, the key is the credential; JSON or form bodies."""
    s, i = {"type": "string"}, {"type": "integer"}
    state = {"type": "object",
             "required": ["valid", "product", "refunded", "disabled", "activations", "activation_limit", "limit_reached",
                          "purchased_at", "order"],
             "properties": {"valid": {"type": "boolean"}, "product": s, "refunded": {"type": "boolean"},
                            "disabled": {"type": "boolean"}, "activations": i,
                            "activation_limit": {"type": ["integer", "null"]}, "limit_reached": {"type": "boolean"},
                            "purchased_at": s, "order": s}}
    key = {"product": {**s, "description": "the product's slug"},
           "license_key": {**s, "description": "the key, as XXXXX-XXXXX-XXXXX-XXXXX (case and dashes are ignored)"}}

    def body(extra: dict[str, Any]) -> dict[str, Any]:
        fields = {**key, **extra}
        return {"type": "object", "required": list(fields), "properties": fields}

    def op(summary: str, extra: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        schema = body(extra)
        return {"post": {"summary": summary, "requestBody": {"required": True, "content": {
            "application/json": {"schema": schema}, "application/x-www-form-urlencoded": {"schema": schema}}},
            "responses": {"200": _json(answer, "The key's state"),
                          "404": _json(ERROR, "No such key for this product (`license_not_found`)"),
                          "409": _json(ERROR, "Refunded, disabled or at its limit"),
                          "429": _json(ERROR, "Too many calls for this key or address (Retry-After)"),
                          "default": _json(ERROR, "An error")}}}
    activated = {**state, "required": [*state["required"], "instance"],
                 "properties": {**state["properties"], "instance": {
                     "type": "object", "required": ["id", "name"], "properties": {"id": s, "name": s}}}}
    return {
        "/api/v1/licenses/verify": op("Check a license key for a product", {}, state),
        "/api/v1/licenses/activate": op("Activate a key on one more instance (up to its limit)",
                                        {"instance_name": {**s, "maxLength": 200}}, activated),
        "/api/v1/licenses/deactivate": op("Free an instance a key was activated on", {"instance_id": s}, state),
    }
