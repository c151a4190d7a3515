"""A Paystack sandbox: a real HTTP server imitating the part of Paystack's API DigitalDock uses.

It follows Paystack's published API (PaystackOSS/openapi, summarised in PAYSTACK.md), not the
edge's convenience: the same paths, `Authorization: Bearer <secret key>`, `{status, message,
data}` envelopes, error messages and HTTP codes, integer subunit amounts, duplicate-reference
errors, a hosted payment page at `authorization_url` (Pay / Decline / Abandon, plain HTML
forms, no script) that returns to `callback_url?trxref=&reference=`, and webhooks signed with
`x-paystack-signature` (hex HMAC-SHA512 of the raw body keyed with the secret key), retried
with backoff until the receiver answers 200.

Like Paystack, an initialised transaction that nobody paid verifies as `abandoned`; a declined
one as `failed`; a paid one as `success` with `fees` per Paystack's published local-card pricing
of the currency (`PRICING`). Wrongly typed input is answered 400 with Paystack's error envelope,
an unknown reference 404.

Fault injection for tests, under `/_sandbox/` (same Bearer key; not part of Paystack's API):
`POST /_sandbox/faults` with any of `webhook_delay` (seconds), `drop_webhooks` (next n are
never sent), `duplicate_webhooks` (send each one twice), `reorder_webhooks` (buffer and send
newest first once two are waiting, or on release), `hold_webhooks` (keep them for
`GET /_sandbox/webhooks`; `POST /_sandbox/webhooks/release` sends them), `fail_api` (next n
API calls answer 500), `report_amount` / `report_currency` / `card_country` (verify and charge.success report
these instead of what was charged), `refund_outcome` (`processed` | `failed`),
`transfer_outcome` (`success` | `failed` | `reversed`), `balance` ({currency: subunits}),
`webhook_url`, `retry_seconds`, `max_attempts`; and modes that mirror production: `transfer_otp`
(transfers answer status `otp` until `/transfer/finalize_transfer` with `otp_code`), `currencies`
(the currencies the account accepts; others are refused as Paystack does), `rate_limit` (next n
API calls answer 429 with `Retry-After: retry_after`), `delay_api` (next n calls are processed,
then answered only after `delay_seconds`: a client timeout), `refund_outcome` also
`needs-attention`, `omit_fees` (charge.success carries `fees: null`, verify has them).
Refunds pass through `pending` and `processing` before `processed`. Paystack's own webhook retry
schedule is `PAYSTACK_RETRY_SCHEDULE` (live); tests shorten it with `retry_seconds`.
`POST /_sandbox/pay/{reference}` pays (or
`{"action": "decline"}`) a transaction without a browser. `GET /_sandbox/state` shows everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

DEFAULT_SECRET = "sk_test_digitaldock_sandbox"
CURRENCIES = ("NGN", "USD", "GHS", "ZAR", "KES", "XOF")
REFERENCE = re.compile(r"^[A-Za-z0-9.=\-]{1,100}$")
TRANSFER_REFERENCE = re.compile(r"^[a-z0-9_\-]{16,50}$")
RECIPIENT_TYPES = ("nuban", "ghipss", "mobile_money", "basa", "authorization")
# Paystack's published local-card pricing per currency: (basis points, flat fee in subunits,
# amount from which the flat fee applies, cap or None). NGN: 1.5% + 100 above 2,500, capped at
# 2,000; GHS 1.95%; ZAR 2.9% + R1; KES 2.9%; USD (international) 3.9% + $0.
PRICING = {"NGN": (150, 10_000, 250_000, 200_000), "GHS": (195, 0, 0, None), "ZAR": (290, 100, 0, None),
           "KES": (290, 0, 0, None), "USD": (390, 0, 0, None), "XOF": (320, 0, 0, None)}
# Paystack's live webhook retries: every 3 minutes for the first 4 tries, then hourly for 72 hours.
PAYSTACK_RETRY_SCHEDULE = [180.0] * 4 + [3600.0] * 72
TRANSFER_CURRENCIES = ("NGN", "GHS", "ZAR", "KES")
RECIPIENT_CURRENCY = {"nuban": ("NGN",), "ghipss": ("GHS",), "mobile_money": ("GHS", "KES"), "basa": ("ZAR",),
                      "kepss": ("KES",), "authorization": TRANSFER_CURRENCIES}
BANKS_BY_CURRENCY = {
    "GHS": [{"id": 301, "name": "GCB Bank", "slug": "gcb-bank", "code": "040100", "longcode": "", "type": "ghipss"},
            {"id": 302, "name": "MTN Mobile Money", "slug": "mtn-mobile-money", "code": "MTN", "longcode": "",
             "type": "mobile_money"}],
    "ZAR": [{"id": 401, "name": "Standard Bank", "slug": "standard-bank", "code": "051001", "longcode": "051001",
             "type": "basa"}],
    "KES": [{"id": 501, "name": "Equity Bank", "slug": "equity-bank", "code": "68", "longcode": "", "type": "kepss"},
            {"id": 502, "name": "M-PESA", "slug": "m-pesa", "code": "MPESA", "longcode": "", "type": "mobile_money"}],
}
COUNTRY_OF = {"NGN": "Nigeria", "GHS": "Ghana", "ZAR": "South Africa", "KES": "Kenya"}
BANKS = [
    {"id": 1, "name": "Access Bank", "slug": "access-bank", "code": "044", "longcode": "044150149"},
    {"id": 9, "name": "First Bank of Nigeria", "slug": "first-bank-of-nigeria", "code": "011", "longcode": "011151003"},
    {"id": 7, "name": "Guaranty Trust Bank", "slug": "guaranty-trust-bank", "code": "058", "longcode": "058152036"},
    {"id": 18, "name": "United Bank For Africa", "slug": "united-bank-for-africa", "code": "033", "longcode": "033153513"},
]
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' *; frame-ancestors 'none'; base-uri 'none'"


def sign(secret: str, body: bytes) -> str:
    """Paystack's webhook signature: hex HMAC-SHA512 of the raw body keyed with the secret key."""
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def paystack_fee(amount: int, currency: str = "NGN") -> int:
    bps, flat, flat_from, cap = PRICING.get(currency, PRICING["NGN"])
    fee = (amount * bps + 5_000) // 10_000
    if amount >= flat_from:
        fee += flat
    return min(fee, cap) if cap is not None else fee


def _text(data: dict[str, Any], key: str) -> str | None | bool:
    """A string field of a request: the value, None when absent/empty, False when of the wrong type."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else False


def ok(message: str, data: Any, status: int = 200, meta: dict | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": True, "message": message, "data": data}
    if meta is not None:
        body["meta"] = meta
    return JSONResponse(body, status_code=status)


def fail(message: str, status: int = 400, type_: str = "validation_error", code: str = "invalid_params") -> JSONResponse:
    return JSONResponse({"status": False, "message": message, "meta": {"nextStep": "Try again later" if status >= 500
                         else "Ensure that you provide the correct parameters"}, "type": type_, "code": code},
                        status_code=status)


def _amount(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class Sandbox:
    """State and behaviour of one sandbox; `app()` is its Starlette application."""

    def __init__(self, secret_key: str = DEFAULT_SECRET, webhook_url: str = "", public_url: str = "",
                 retry_seconds: float = 2.0, max_attempts: int = 10):
        self.secret_key = secret_key
        self.public_url = public_url.rstrip("/")
        self.transactions: dict[str, dict[str, Any]] = {}
        self.by_code: dict[str, str] = {}
        self.refunds: list[dict[str, Any]] = []
        self.recipients: dict[str, dict[str, Any]] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []   # every webhook and its fate
        self.queue: list[dict[str, Any]] = []        # due deliveries
        self.held: list[dict[str, Any]] = []
        self.reorder_buffer: list[dict[str, Any]] = []
        self.balance: dict[str, int] = {}
        self.faults: dict[str, Any] = {}
        self.next_id = 1_000_000_000
        self.config = {"webhook_url": webhook_url, "retry_seconds": retry_seconds, "max_attempts": max_attempts}
        self.currencies = list(CURRENCIES)  # the `currencies` mode: what this account accepts
        self.wake = asyncio.Event()

    # --- helpers ------------------------------------------------------------------------------

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _auth(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme != "Bearer" or not key:
            return fail("Format is Authorization Bearer [secret key]", 401, "api_error", "unauthorized")
        if not hmac.compare_digest(key.encode(), self.secret_key.encode()):
            return fail("Invalid key", 401, "api_error", "unauthorized")
        if request.url.path.startswith("/_sandbox"):
            return None
        if self.faults.get("fail_api", 0) > 0:
            self.faults["fail_api"] -= 1
            return fail("An error occurred", 500, "api_error", "unknown")
        if self.faults.get("rate_limit", 0) > 0:
            self.faults["rate_limit"] -= 1
            r = fail("Too many requests", 429, "api_error", "rate_limited")
            r.headers["Retry-After"] = str(self.faults.get("retry_after", 1))
            return r
        return None

    async def _slow(self) -> None:
        """The `delay_api` fault: the call was processed, its answer comes late (a client timeout)."""
        if self.faults.get("delay_api", 0) > 0:
            self.faults["delay_api"] -= 1
            await asyncio.sleep(float(self.faults.get("delay_seconds", 2.0)))

    async def _body(self, request: Request) -> dict[str, Any] | None:
        ctype = request.headers.get("content-type", "")
        raw = await request.body()
        if ctype.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(raw.decode("latin-1")))
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _base(self, request: Request) -> str:
        return self.public_url or str(request.base_url).rstrip("/")

    def transaction_view(self, t: dict[str, Any]) -> dict[str, Any]:
        """The transaction object as verify and charge.success show it."""
        amount = self.faults.get("report_amount") or t["amount"]
        currency = self.faults.get("report_currency") or t["currency"]
        paid = t["status"] == "success"
        return {
            "id": t["id"], "domain": "test", "status": t["status"], "reference": t["reference"],
            "receipt_number": None, "amount": amount, "message": None,
            "gateway_response": {"success": "Successful", "failed": "Declined"}.get(t["status"], "The transaction was not completed"),
            "paid_at": t["paid_at"], "created_at": t["created_at"], "channel": "card", "currency": currency,
            "ip_address": "127.0.0.1", "metadata": t["metadata"] if t["metadata"] is not None else "",
            "log": None, "fees": t["fees"] if paid else None, "fees_split": None,
            "authorization": {"authorization_code": f"AUTH_{t['id']}", "bin": "408408", "last4": "4081",
                              "exp_month": "12", "exp_year": "2030", "channel": "card", "card_type": "visa ",
                              "bank": "TEST BANK", "country_code": self.faults.get("card_country") or "NG", "brand": "visa", "reusable": True,
                              "signature": f"SIG_{t['id']}", "account_name": None} if paid else {},
            "customer": {"id": t["customer_id"], "first_name": None, "last_name": None, "email": t["email"],
                         "customer_code": f"CUS_{t['customer_id']}", "phone": None, "metadata": None,
                         "risk_action": "default", "international_format_phone": None},
            "plan": None, "split": {}, "order_id": None, "paidAt": t["paid_at"], "createdAt": t["created_at"],
            "requested_amount": t["amount"], "pos_transaction_data": None, "source": None,
            "fees_breakdown": None, "connect": None, "transaction_date": t["created_at"], "plan_object": {},
            "subaccount": {},
        }

    def refund_transaction_view(self, t: dict[str, Any]) -> dict[str, Any]:
        """The transaction as a refund embeds it (the OpenAPI's RefundCreate: a smaller object,
        `plan` and `subaccount` objects rather than null)."""
        view = self.transaction_view(t)
        keep = ("id", "domain", "reference", "amount", "paid_at", "channel", "currency", "split", "order_id", "paidAt",
                "pos_transaction_data", "source", "fees_breakdown")
        return {**{k: view[k] for k in keep}, "authorization": {"exp_month": None, "exp_year": None, "account_name": None},
                "customer": {"international_format_phone": None}, "plan": {}, "subaccount": {"currency": None}}

    # --- webhooks -----------------------------------------------------------------------------

    def emit(self, event: str, data: dict[str, Any]) -> None:
        body = json.dumps({"event": event, "data": data}, separators=(",", ":")).encode()
        item = {"event": event, "body": body, "signature": sign(self.secret_key, body), "attempts": 0,
                "due": time.monotonic() + float(self.faults.get("webhook_delay", 0) or 0), "status": "queued",
                "reference": data.get("reference") or data.get("transaction_reference")}
        self.deliveries.append(item)
        if self.faults.get("drop_webhooks", 0) > 0:
            self.faults["drop_webhooks"] -= 1
            item["status"] = "dropped"
            return
        copies = [item]
        if self.faults.get("duplicate_webhooks"):
            copy = {**item}
            self.deliveries.append(copy)
            copies.append(copy)
        if self.faults.get("hold_webhooks"):
            for c in copies:
                c["status"] = "held"
            self.held.extend(copies)
            return
        if self.faults.get("reorder_webhooks"):
            self.reorder_buffer.extend(copies)
            if len({i["body"] for i in self.reorder_buffer}) >= 2:
                self._flush_reorder()
            return
        self.queue.extend(copies)
        self.wake.set()

    def _flush_reorder(self) -> None:
        buffered, self.reorder_buffer = self.reorder_buffer, []
        for item in reversed(buffered):
            item["due"] = time.monotonic()
            self.queue.append(item)
        self.wake.set()

    def release(self) -> int:
        held, self.held = self.held, []
        for item in held:
            item["status"], item["due"] = "queued", time.monotonic()
            self.queue.append(item)
        self._flush_reorder()
        return len(held)

    async def deliver_forever(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30.0) as client:
            while not stop.is_set():
                now = time.monotonic()
                due = [i for i in self.queue if i["due"] <= now]
                for item in due:
                    self.queue.remove(item)
                if due:
                    await asyncio.gather(*(self._deliver(client, i) for i in due))
                self.wake.clear()
                waits = [i["due"] - time.monotonic() for i in self.queue]
                timeout = max(0.01, min(waits)) if waits else 0.5
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wait(stop), timeout=timeout)

    async def _wait(self, stop: asyncio.Event) -> None:
        await asyncio.wait([asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())],
                           return_when=asyncio.FIRST_COMPLETED)

    async def _deliver(self, client: httpx.AsyncClient, item: dict[str, Any]) -> None:
        item["attempts"] += 1
        url = self.config["webhook_url"]
        try:
            if not url:
                raise httpx.ConnectError("no webhook URL configured")
            r = await client.post(url, content=item["body"], headers={
                "content-type": "application/json", "x-paystack-signature": item["signature"],
                "user-agent": "Paystack-Sandbox/1.0"})
            status: int | str = r.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        item["last_status"] = status
        if status == 200:
            item["status"] = "delivered"
            return
        paystack_schedule = self.config.get("retry_schedule") == "paystack"
        limit = len(PAYSTACK_RETRY_SCHEDULE) + 1 if paystack_schedule else int(self.config["max_attempts"])
        if item["attempts"] >= limit:
            item["status"] = "failed"
            return
        item["status"] = "retrying"
        if paystack_schedule:  # Paystack's live schedule: 3 minutes for the first 4 tries, then hourly
            item["due"] = time.monotonic() + PAYSTACK_RETRY_SCHEDULE[item["attempts"] - 1]
        else:  # tests: exponential from retry_seconds
            item["due"] = time.monotonic() + float(self.config["retry_seconds"]) * (2 ** min(item["attempts"] - 1, 6))
        self.queue.append(item)

    # --- transactions -------------------------------------------------------------------------

    async def initialize(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        email = data.get("email")
        amount = _amount(data.get("amount"))
        if not email or not isinstance(email, str) or "@" not in email:
            return fail("Invalid Email Address Passed" if email else "Email is required")
        if amount is None or amount <= 0:
            return fail("Invalid Amount Sent")
        currency, callback = _text(data, "currency"), _text(data, "callback_url")
        if currency is False:
            return fail("Invalid currency: must be a string")
        if callback is False or (callback and not str(callback).startswith(("http://", "https://"))):
            return fail("Invalid callback_url: must be a URL string")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, (dict, str)):
            return fail("Invalid metadata: must be an object or a JSON string")
        currency = currency or "NGN"
        if currency not in CURRENCIES or currency not in self.currencies:
            return fail("Currency not supported by merchant", code="unsupported_currency")
        reference = data.get("reference") or f"T{secrets.randbelow(10**15):015d}"
        if not isinstance(reference, str) or not REFERENCE.match(reference):
            return fail("Invalid transaction reference. Only -, ., = and alphanumeric characters allowed.")
        if reference in self.transactions:
            return fail("Duplicate Transaction Reference", code="duplicate_reference")
        code = secrets.token_hex(8)
        if isinstance(metadata, str):
            with contextlib.suppress(ValueError):
                metadata = json.loads(metadata)
        self.transactions[reference] = {
            "id": self._id(), "reference": reference, "amount": amount, "currency": currency, "email": email,
            "status": "abandoned", "access_code": code, "callback_url": data.get("callback_url") or "",
            "metadata": metadata, "created_at": _now(), "paid_at": None, "fees": paystack_fee(amount, currency),
            "customer_id": 100 + len(self.transactions), "refunded": 0, "settled": False}
        self.by_code[code] = reference
        await self._slow()
        return ok("Authorization URL created", {"authorization_url": f"{self._base(request)}/pay/{code}",
                                                "access_code": code, "reference": reference})

    async def verify(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        t = self.transactions.get(request.path_params["reference"])
        if t is None:  # the OpenAPI's answer: 404
            return fail("Transaction reference not found", 404, code="transaction_not_found")
        return ok("Verification successful", self.transaction_view(t))

    def complete(self, t: dict[str, Any], action: str) -> None:
        if t["status"] != "abandoned" or t.get("closed"):
            return
        if action == "pay":
            t["status"], t["paid_at"] = "success", _now()
            self.balance[t["currency"]] = self.balance.get(t["currency"], 0) + t["amount"] - t["fees"]
            view = self.transaction_view(t)
            if self.faults.get("omit_fees"):  # Paystack's own sample event: "fees": null
                view["fees"] = None
            self.emit("charge.success", view)
        elif action == "decline":
            t["status"] = "failed"
        else:
            t["closed"] = True  # stays "abandoned", as Paystack reports it

    async def pay_page(self, request: Request) -> Response:
        ref = self.by_code.get(request.path_params["code"])
        if ref is None:
            return HTMLResponse("<!doctype html><title>Not found</title><p>This payment link is not valid.</p>",
                                status_code=404, headers={"content-security-policy": PAGE_CSP})
        t = self.transactions[ref]
        if request.method == "POST":
            form = await request.form()
            self.complete(t, str(form.get("action", "")))
            target = t["callback_url"]
            if target:
                parts = urlsplit(target)
                query = parts.query + ("&" if parts.query else "") + urlencode({"trxref": ref, "reference": ref})
                return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=303)
        major = f"{t['amount'] // 100:,}.{t['amount'] % 100:02d}"
        done = t["status"] != "abandoned" or t.get("closed")
        buttons = "" if done else (
            f'<form method="post" action="/pay/{html.escape(t["access_code"])}">'
            '<button name="action" value="pay" type="submit">Pay</button> '
            '<button name="action" value="decline" type="submit">Decline</button> '
            '<button name="action" value="abandon" type="submit">Abandon</button></form>')
        state = f"<p>Status: <strong id=status>{html.escape(t['status'])}</strong></p>" if done else ""
        page = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>Paystack sandbox: pay</title>"
                "<meta name=viewport content='width=device-width'></head>"
                "<body style='font-family:sans-serif;max-width:28rem;margin:3rem auto'>"
                "<p><strong>Paystack sandbox</strong> (test mode, no real money)</p>"
                f"<h1>Pay {html.escape(t['currency'])} <span id=amount>{major}</span></h1>"
                f"<p>{html.escape(t['email'])} · reference <code>{html.escape(ref)}</code></p>{state}{buttons}</body></html>")
        return HTMLResponse(page, headers={"content-security-policy": PAGE_CSP})

    # --- refunds ------------------------------------------------------------------------------

    async def refund(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        key = data.get("transaction")
        if key is None or key == "":
            return fail("Transaction reference or id is required")
        if not isinstance(key, (str, int)) or isinstance(key, bool):
            return fail("Invalid transaction: must be a reference or an id")
        for name in ("currency", "merchant_note", "customer_note"):
            if _text(data, name) is False:
                return fail(f"Invalid {name}: must be a string")
        t = self.transactions.get(str(key)) or next(
            (x for x in self.transactions.values() if str(x["id"]) == str(key)), None)
        if t is None:
            return fail("Transaction not found", 404, code="transaction_not_found")
        if t["status"] != "success":
            return fail("Cannot refund a transaction that is not successful")
        remaining = t["amount"] - t["refunded"]
        if remaining <= 0:
            return fail("Transaction has been fully reversed")
        amount = _amount(data["amount"]) if data.get("amount") not in (None, "") else remaining
        if amount is None or amount <= 0:
            return fail("Invalid Amount Sent")
        if amount > remaining:
            return fail("Refund amount cannot be greater than the transaction amount")
        t["refunded"] += amount
        refund = {"id": self._id(), "amount": amount, "currency": t["currency"], "transaction": t["reference"],
                  "status": "pending", "createdAt": _now()}
        self.refunds.append(refund)
        outcome = self.faults.get("refund_outcome", "processed")
        small = {"status": "pending", "transaction_reference": t["reference"], "refund_reference": None,
                 "amount": str(amount), "currency": t["currency"], "processor": "card",
                 "customer": {"first_name": None, "last_name": None, "email": t["email"]},
                 "integration": 412829, "domain": "test"}
        self.emit("refund.pending", small)
        self.emit("refund.processing", {**small, "status": "processing"})
        if outcome == "needs-attention":
            refund["status"] = "needs-attention"
            self.emit("refund.needs-attention", {**small, "status": "needs-attention"})
        elif outcome == "failed":
            t["refunded"] -= amount
            refund["status"] = "failed"
            self.emit("refund.failed", {**small, "status": "failed"})
        else:
            refund["status"] = "processed"
            self.balance[t["currency"]] = self.balance.get(t["currency"], 0) - amount
            self.emit("refund.processed", {**small, "status": "processed",
                                           "refund_reference": f"RFN{refund['id']}"})
        return ok("Refund has been queued for processing", {
            "transaction": self.refund_transaction_view(t),
            "integration": 412829, "deducted_amount": 0, "channel": None, "merchant_note": data.get("merchant_note") or "",
            "customer_note": data.get("customer_note") or "", "status": "pending", "refunded_by": "sandbox@paystack.test",
            "expected_at": _now(), "currency": t["currency"], "domain": "test", "amount": amount,
            "fully_deducted": False, "id": refund["id"], "createdAt": refund["createdAt"], "updatedAt": refund["createdAt"]})

    # --- transfers ----------------------------------------------------------------------------

    async def transfer_recipient(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        missing = [k for k in ("type", "name", "account_number", "bank_code") if not data.get(k)]
        if missing:
            return fail(f"{missing[0]} is required" if missing[0] != "type" else "Recipient type is invalid")
        for name in ("type", "name", "account_number", "bank_code", "currency", "description"):
            if _text(data, name) is False:
                return fail(f"Invalid {name}: must be a string")
        if data["type"] not in RECIPIENT_TYPES:
            return fail("Recipient type is invalid")
        currency = data.get("currency") or RECIPIENT_CURRENCY[data["type"]][0]
        if currency not in RECIPIENT_CURRENCY[data["type"]]:
            return fail(f"Recipient type {data['type']} cannot receive {currency}", code="invalid_currency")
        bank = next((b for b in self._banks(currency) if b["code"] == data["bank_code"]), None)
        number = data["account_number"]
        size_ok = len(number) == 10 if data["type"] == "nuban" else 6 <= len(number) <= 20
        if bank is None or not (number.isascii() and number.isdigit()) or not size_ok:
            return fail("Cannot resolve account", code="invalid_bank_account")
        key = f"{data['bank_code']}:{data['account_number']}"
        if key not in self.recipients:
            rid = self._id()
            self.recipients[key] = {
                "active": True, "createdAt": _now(), "currency": currency, "description": data.get("description") or "",
                "domain": "test", "email": "", "id": rid, "integration": 412829, "metadata": data.get("metadata"),
                "name": data["name"], "recipient_code": f"RCP_{secrets.token_hex(7)}", "type": data["type"],
                "updatedAt": _now(), "is_deleted": False, "isDeleted": False,
                "details": {"authorization_code": None, "account_number": str(data["account_number"]),
                            "account_name": str(data["name"]).upper(), "bank_code": bank["code"], "bank_name": bank["name"]}}
        return ok("Transfer recipient created successfully", self.recipients[key], 201)

    async def transfer(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        amount = _amount(data.get("amount"))
        if amount is None or amount <= 0:
            return fail("Invalid Amount Sent")
        if data.get("source") != "balance":
            return fail("Invalid transfer source")
        for name in ("currency", "recipient", "reason", "source"):
            if _text(data, name) is False:
                return fail(f"Invalid {name}: must be a string")
        reference = data.get("reference")
        if reference is not None and (not isinstance(reference, str) or not TRANSFER_REFERENCE.match(reference)):
            return fail("Invalid reference: use 16 to 50 lowercase letters, digits, - or _")
        if reference and reference in self.transfers:
            return fail("Please provide a unique reference. Reference already exists on a transfer",
                        code="duplicate_reference")
        recipient = next((r for r in self.recipients.values() if r["recipient_code"] == data.get("recipient")), None)
        if recipient is None:
            return fail("Recipient specified is invalid", code="invalid_recipient")
        currency = data.get("currency") or recipient["currency"]
        if currency not in TRANSFER_CURRENCIES:
            return fail(f"Transfers are not available in {currency}", code="unsupported_currency")
        if self.balance.get(currency, 0) < amount:
            return fail("Your balance is not enough to fulfill this request", code="insufficient_balance")
        reference = reference or secrets.token_hex(10)
        self.balance[currency] -= amount
        tr = {"integration": 412829, "domain": "test", "amount": amount, "currency": currency, "source": "balance",
              "source_details": None, "reason": data.get("reason") or "", "recipient": recipient["id"],
              "status": "pending", "failures": None, "transfer_code": f"TRF_{secrets.token_hex(7)}",
              "titan_code": None, "transferred_at": None, "id": self._id(), "reference": reference,
              "request": self.next_id, "session": {"provider": None, "id": None},
              "transfersessionid": [], "transfertrials": [],
              "createdAt": _now(), "updatedAt": _now(), "recipient_obj": recipient}
        self.transfers[reference] = tr
        if self.faults.get("transfer_otp"):
            tr["status"] = "otp"
            return ok("Transfer requires OTP to continue", self._transfer_view(tr))
        self._settle(tr)
        await self._slow()
        return ok("Transfer has been queued", self._transfer_view(tr) | {"status": "pending"})

    def _transfer_view(self, tr: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in tr.items() if k != "recipient_obj"}

    def _settle(self, tr: dict[str, Any]) -> None:
        """The transfer leaves the balance and its outcome (`transfer_outcome`) is sent as a webhook."""
        amount, currency, reference, recipient = tr["amount"], tr["currency"], tr["reference"], tr["recipient_obj"]
        outcome = self.faults.get("transfer_outcome", "success")
        event = {"amount": amount, "currency": currency, "domain": "test", "failures": None, "id": tr["id"],
                 "integration": {"id": 412829, "is_live": False, "business_name": "DigitalDock"},
                 "reason": tr["reason"], "reference": reference, "source": "balance", "source_details": None,
                 "status": outcome, "titan_code": None, "transfer_code": tr["transfer_code"],
                 "transferred_at": _now() if outcome == "success" else None,
                 "recipient": {k: recipient[k] for k in ("active", "currency", "description", "domain", "email", "id",
                                                         "integration", "metadata", "name", "recipient_code",
                                                         "type", "is_deleted", "details")},
                 "session": {"provider": None, "id": None}, "created_at": tr["createdAt"], "updated_at": _now()}
        if outcome != "success":
            self.balance[currency] += amount
        tr["status"] = outcome
        self.emit(f"transfer.{outcome}", event)

    async def finalize_transfer(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        code, otp = _text(data, "transfer_code"), _text(data, "otp")
        if code is False or otp is False or not code or not otp:
            return fail("transfer_code and otp are required strings")
        tr = next((t for t in self.transfers.values() if t["transfer_code"] == code), None)
        if tr is None:
            return fail("Transfer not found", 404, code="not_found")
        if tr["status"] != "otp":
            return fail("Transfer is not currently awaiting OTP", code="transfer_not_otp")
        if otp != str(self.faults.get("otp_code", "123456")):
            return fail("Invalid OTP", code="invalid_otp")
        self._settle(tr)
        return ok("Transfer has been queued", self._transfer_view(tr) | {"status": "pending"})

    async def resend_otp(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request)
        if data is None:
            return fail("Invalid JSON body")
        code, reason = _text(data, "transfer_code"), _text(data, "reason")
        if code is False or reason is False or not code or reason not in ("resend_otp", "transfer"):
            return fail("transfer_code and reason (resend_otp or transfer) are required")
        tr = next((t for t in self.transfers.values() if t["transfer_code"] == code), None)
        if tr is None or tr["status"] != "otp":
            return fail("Transfer is not currently awaiting OTP", code="transfer_not_otp")
        self.otps_sent = getattr(self, "otps_sent", 0) + 1
        return ok("OTP has been resent", None)

    async def verify_transfer(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        tr = self.transfers.get(request.path_params["reference"])
        if tr is None:
            return fail("Transfer not found", 404, code="not_found")
        return ok("Transfer retrieved", self._transfer_view(tr) | {"recipient": tr["recipient_obj"],
                                                                     "gateway_response": None})

    async def resolve(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        number, code = request.query_params.get("account_number", ""), request.query_params.get("bank_code", "")
        bank = next((b for c in ("NGN", "GHS") for b in self._banks(c) if b["code"] == code), None)
        if bank is None or not (number.isascii() and number.isdigit() and 6 <= len(number) <= 20):
            return fail("Could not resolve account name. Check parameters or try again.", 422,
                        code="invalid_bank_account")
        known = next((r for r in self.recipients.values() if r["details"]["account_number"] == number), None)
        name = known["details"]["account_name"] if known else f"SANDBOX ACCOUNT {number[-4:]}"
        return ok("Account number resolved", {"account_number": number, "account_name": name, "bank_id": bank["id"]})

    async def balance_view(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        return ok("Balances retrieved", [{"currency": c, "balance": self.balance.get(c, 0)} for c in self.currencies])

    def _banks(self, currency: str) -> list[dict[str, Any]]:
        if currency == "NGN":
            return [{**b, "type": "nuban"} for b in BANKS]
        return BANKS_BY_CURRENCY.get(currency, [])

    async def banks(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        q = request.query_params
        currency = q.get("currency") or {"ghana": "GHS", "south africa": "ZAR", "kenya": "KES"}.get(
            q.get("country", "nigeria").lower(), "NGN")
        kind = q.get("type")
        rows = [{**b, "gateway": "emandate" if currency == "NGN" else None, "pay_with_bank": False,
                 "supports_transfer": True, "available_for_direct_debit": currency == "NGN", "active": True,
                 "is_deleted": False, "country": COUNTRY_OF.get(currency, ""), "currency": currency,
                 "createdAt": "2016-07-14T10:04:29.000Z", "updatedAt": "2024-01-01T00:00:00.000Z"}
                for b in self._banks(currency) if not kind or b["type"] == kind]
        return ok("Banks retrieved", rows, meta={"next": None, "previous": None, "perPage": 50})

    # --- control ------------------------------------------------------------------------------

    async def control_faults(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        data = await self._body(request) or {}
        for key in ("webhook_url", "retry_seconds", "max_attempts", "retry_schedule"):
            if key in data:
                self.config[key] = data.pop(key)
        if "balance" in data:
            self.balance.update({str(k): int(v) for k, v in dict(data.pop("balance")).items()})
        if "currencies" in data:
            self.currencies = [str(c) for c in data.pop("currencies")]
        self.faults.update(data)
        if not self.faults.get("reorder_webhooks") and self.reorder_buffer:
            self._flush_reorder()
        return ok("Faults set", {"faults": self.faults, "config": self.config})

    async def control_state(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        return ok("State", {
            "transactions": list(self.transactions.values()), "refunds": self.refunds,
            "transfers": list(self.transfers.values()), "balance": self.balance, "faults": self.faults,
            "deliveries": [{k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.items()}
                           for d in self.deliveries]})

    async def control_webhooks(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        if request.method == "POST":
            return ok("Released", {"released": self.release()})
        return ok("Held webhooks", [{"event": h["event"], "body": h["body"].decode(), "signature": h["signature"]}
                                    for h in self.held])

    async def control_pay(self, request: Request) -> Response:
        if (denied := self._auth(request)) is not None:
            return denied
        t = self.transactions.get(request.path_params["reference"])
        if t is None:
            return fail("Transaction reference not found", code="transaction_not_found")
        data = await self._body(request) or {}
        self.complete(t, str(data.get("action", "pay")))
        return ok("Done", self.transaction_view(t))

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            stop = asyncio.Event()
            self.wake = asyncio.Event()
            task = asyncio.create_task(self.deliver_forever(stop))
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(task, return_exceptions=True)

        async def home(request: Request) -> Response:
            return ok("Paystack sandbox", {"endpoints": ["/transaction/initialize", "/transaction/verify/:reference",
                                                          "/refund", "/transferrecipient", "/transfer", "/bank"]})

        async def not_found(request: Request, exc: Exception) -> Response:
            return fail("Not found", 404, "api_error", "not_found")

        app = Starlette(routes=[
            Route("/", home),
            Route("/transaction/initialize", self.initialize, methods=["POST"]),
            Route("/transaction/verify/{reference}", self.verify),
            Route("/pay/{code}", self.pay_page, methods=["GET", "POST"]),
            Route("/refund", self.refund, methods=["POST"]),
            Route("/transferrecipient", self.transfer_recipient, methods=["POST"]),
            Route("/transfer", self.transfer, methods=["POST"]),
            Route("/transfer/finalize_transfer", self.finalize_transfer, methods=["POST"]),
            Route("/transfer/resend_otp", self.resend_otp, methods=["POST"]),
            Route("/transfer/verify/{reference}", self.verify_transfer),
            Route("/bank", self.banks),
            Route("/bank/resolve", self.resolve),
            Route("/balance", self.balance_view),
            Route("/_sandbox/faults", self.control_faults, methods=["POST"]),
            Route("/_sandbox/state", self.control_state),
            Route("/_sandbox/webhooks", self.control_webhooks, methods=["GET", "POST"]),
            Route("/_sandbox/webhooks/release", self.control_webhooks, methods=["POST"]),
            Route("/_sandbox/pay/{reference}", self.control_pay, methods=["POST"]),
        ], lifespan=lifespan, exception_handlers={404: not_found})
        app.state.sandbox = self
        return app
