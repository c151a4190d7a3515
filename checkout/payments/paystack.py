"""A thin Paystack API client (httpx) with the edge's base URL, key, timeout and retries.

Network errors, 5xx and 429 answers are retried with exponential backoff (0.25 s, 0.5 s, 1 s …;
a 429's `Retry-After` is honoured up to PAYSTACK_RETRY_AFTER_MAX_SECONDS), except for refunds,
which Paystack cannot deduplicate; when every retry is spent the `PaystackError` is
`retryable`: the caller leaves its work for later (a payout stays queued), never failed.
Any other 4xx answer is Paystack refusing the request and is raised at once as `PaystackError`
carrying Paystack's own `message` and HTTP status (a 404 is `not_found`). Every answer is the
`{status, message, data}` envelope; `data` is returned.

A circuit breaker (`Breaker`) counts calls that could not reach Paystack: after
PAYSTACK_BREAKER_FAILURES in a row it opens and calls fail fast (`PaystackError.circuit_open`)
for PAYSTACK_BREAKER_SECONDS; then one probe call is let through, and its success closes it.

Transfers go to the recipient type each country needs (`RECIPIENT_TYPES`); Paystack transfers
in NGN, GHS, ZAR and KES only (not USD). Webhook signatures are checked here too, in constant
time over the raw bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from checkout.core.context import Edge
from checkout.payments.errors import PaystackError

log = structlog.get_logger("checkout.paystack")
# Paystack sends webhooks only from these addresses (PAYSTACK.md).
WEBHOOK_IPS = frozenset({"52.31.139.75", "52.49.173.169", "52.214.14.220"})

# Recipient types per payout currency (PAYSTACK.md, the OpenAPI's transfer currency enum):
# the first is the default, the others are offered too.
RECIPIENT_TYPES: dict[str, tuple[str, ...]] = {
    "NGN": ("nuban",), "GHS": ("ghipss", "mobile_money"), "ZAR": ("basa",), "KES": ("kepss", "mobile_money")}
TRANSFER_CURRENCIES = tuple(RECIPIENT_TYPES)
COUNTRIES = {"NGN": "nigeria", "GHS": "ghana", "ZAR": "south africa", "KES": "kenya"}
RESOLVABLE = ("NGN", "GHS")  # Paystack's /bank/resolve answers for Nigerian and Ghanaian accounts


def signature_ok(secret: str, raw_body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def ip_allowed(ip: str | None) -> bool:
    try:
        return ip is not None and str(ipaddress.ip_address(ip)) in WEBHOOK_IPS
    except ValueError:
        return False


class Breaker:
    """Closed → open after `threshold` unreachable calls in a row → half-open once `seconds`
    have passed (one probe call goes through) → closed on its success, open again on failure."""

    def __init__(self, threshold: int = 5, seconds: float = 30.0, clock: Callable[[], float] = time.time):
        self.threshold, self.seconds, self.clock = max(1, threshold), seconds, clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False
        self.last_error = ""
        self.opened_count = 0  # how many times it opened (for the alert and the metrics)
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.seconds else "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one probe at a time."""
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "half_open" and not self.probing:
                self.probing = True
                return True
            return False

    def succeeded(self) -> None:
        with self._lock:
            if self.opened_at is not None:
                log.warning("paystack_circuit_closed")
            self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self, error: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = error
            if self.probing or (self.opened_at is None and self.failures >= self.threshold):
                if self.opened_at is None or self.probing:
                    self.opened_count += 1
                self.opened_at, self.probing = self.clock(), False
                log.error("paystack_circuit_open", failures=self.failures, error=error)

    def retry_in(self) -> float:
        return 0.0 if self.opened_at is None else max(0.0, self.opened_at + self.seconds - self.clock())


def retry_after(value: str | None, default: float) -> float:
    """Seconds a 429's `Retry-After` asks for (delta-seconds; an HTTP date counts as `default`)."""
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


class Paystack:
    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.25, transport: httpx.BaseTransport | None = None,
                 breaker: Breaker | None = None, retry_after_max: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.transport = transport
        self.breaker = breaker or Breaker()
        self.retry_after_max = retry_after_max

    @classmethod
    def for_edge(cls, edge: "Edge") -> "Paystack":
        s = edge.settings
        return cls(s.PAYSTACK_BASE_URL, s.PAYSTACK_SECRET_KEY.reveal(), s.PAYSTACK_TIMEOUT_SECONDS, s.PAYSTACK_RETRIES,
                   breaker=Breaker(s.PAYSTACK_BREAKER_FAILURES, s.PAYSTACK_BREAKER_SECONDS, edge.clock),
                   retry_after_max=s.PAYSTACK_RETRY_AFTER_MAX_SECONDS)

    def _client(self) -> httpx.Client:
        # one short-lived client per call: calls are rare, and nothing is left open at shutdown
        return httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=self.transport, headers={
            "Authorization": f"Bearer {self.secret_key}", "User-Agent": "DigitalDock-edge/1"})

    def request(self, method: str, path: str, retry: bool = True, **kwargs: Any) -> Any:
        """One API call. `retry=False` for calls Paystack cannot deduplicate (a refund has no
        reference of ours): a 5xx then is reported at once instead of risking a second refund."""
        if not self.breaker.allow():
            raise PaystackError(f"Paystack calls are paused for {self.breaker.retry_in():.0f} s after repeated "
                                f"failures ({self.breaker.last_error})", retryable=True, circuit_open=True)
        last, wait = "no attempt", 0.0
        for attempt in range(self.retries + 1 if retry else 1):
            if attempt:
                time.sleep(max(wait, self.backoff * (2 ** (attempt - 1))))
            wait = 0.0
            try:
                with self._client() as client:
                    r = client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("paystack_network_error", path=path, attempt=attempt + 1, error=last)
                continue
            if r.status_code == 429:
                wait = retry_after(r.headers.get("retry-after"), self.backoff)
                last = f"Paystack answered 429 (rate limited, retry after {wait:g} s)"
                log.warning("paystack_rate_limited", path=path, attempt=attempt + 1, retry_after=wait)
                if wait > self.retry_after_max:
                    break  # longer than a call may wait: the work stays for the next run
                continue
            if r.status_code >= 500:
                last = f"Paystack answered {r.status_code}"
                log.warning("paystack_server_error", path=path, attempt=attempt + 1, status=r.status_code)
                continue
            self.breaker.succeeded()  # Paystack answered: it is reachable, whatever it said
            try:
                body = r.json()
            except ValueError:
                raise PaystackError(f"Paystack answered {r.status_code} without JSON", r.status_code) from None
            if not isinstance(body, dict):
                raise PaystackError(f"Paystack answered {r.status_code} without its envelope", r.status_code)
            if r.status_code >= 400 or not body.get("status"):
                raise PaystackError(str(body.get("message") or f"Paystack answered {r.status_code}"), r.status_code)
            return body.get("data")
        self.breaker.failed(last)
        raise PaystackError(f"Paystack could not be reached: {last}", retryable=True)

    def initialize(self, email: str, amount: int, currency: str, reference: str, callback_url: str,
                   metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("POST", "/transaction/initialize", json={
            "email": email, "amount": amount, "currency": currency, "reference": reference,
            "callback_url": callback_url, "metadata": metadata or {}})

    def verify(self, reference: str) -> dict[str, Any]:
        return self.request("GET", f"/transaction/verify/{quote(reference, safe='')}")

    def refund(self, reference: str, amount: int | None, currency: str | None, note: str = "") -> dict[str, Any]:
        """POST /refund; without an amount Paystack returns what is left of the transaction."""
        body: dict[str, Any] = {"transaction": reference, "merchant_note": note}
        if amount is not None:
            body.update(amount=amount, currency=currency)
        return self.request("POST", "/refund", retry=False, json=body)

    def create_recipient(self, name: str, account_number: str, bank_code: str, currency: str,
                         type_: str | None = None) -> dict[str, Any]:
        """POST /transferrecipient with the recipient type the currency's country needs."""
        return self.request("POST", "/transferrecipient", json={
            "type": type_ or RECIPIENT_TYPES[currency][0], "name": name, "account_number": account_number,
            "bank_code": bank_code, "currency": currency})

    def transfer(self, amount: int, recipient: str, reference: str, currency: str, reason: str) -> dict[str, Any]:
        return self.request("POST", "/transfer", json={"source": "balance", "amount": amount, "recipient": recipient,
                                                       "reference": reference, "currency": currency, "reason": reason})

    def finalize_transfer(self, transfer_code: str, otp: str) -> dict[str, Any]:
        """POST /transfer/finalize_transfer: the OTP Paystack sent the business completes a transfer."""
        return self.request("POST", "/transfer/finalize_transfer", retry=False,
                            json={"transfer_code": transfer_code, "otp": otp})

    def resend_otp(self, transfer_code: str) -> Any:
        return self.request("POST", "/transfer/resend_otp", json={"transfer_code": transfer_code, "reason": "transfer"})

    def verify_transfer(self, reference: str) -> dict[str, Any]:
        return self.request("GET", f"/transfer/verify/{quote(reference, safe='')}")

    def banks(self, currency: str = "NGN", type_: str | None = None) -> list[dict[str, Any]]:
        """GET /bank for the country of `currency` (mobile-money operators with `type_`)."""
        params: dict[str, Any] = {"country": COUNTRIES.get(currency, "nigeria"), "currency": currency, "perPage": 100}
        if type_:
            params["type"] = type_
        return self.request("GET", "/bank", params=params)

    def resolve_account(self, account_number: str, bank_code: str) -> dict[str, Any]:
        """GET /bank/resolve: the name on the account, before it is saved."""
        return self.request("GET", "/bank/resolve", params={"account_number": account_number, "bank_code": bank_code})

    def balances(self) -> list[dict[str, Any]]:
        """GET /balance: one row per currency the Paystack account holds (the currencies it accepts)."""
        return self.request("GET", "/balance")


def amount_of(value: Any) -> int | None:
    """An amount field of a Paystack answer or event as minor units, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
