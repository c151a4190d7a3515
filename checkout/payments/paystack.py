"""A thin Paystack API client (httpx) with the edge's base URL, key, timeout and retries.

Network errors and 5xx answers are retried with exponential backoff (0.25 s, 0.5 s, 1 s …),
except for refunds, which Paystack cannot deduplicate;
a 4xx answer is Paystack refusing the request and is raised at once as `PaystackError`
carrying Paystack's own `message`. Every answer is the `{status, message, data}` envelope;
`data` is returned. Webhook signatures are checked here too, in constant time over the raw
bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from checkout.core.context import Edge
from checkout.payments.errors import PaystackError

log = structlog.get_logger("checkout.paystack")
# Paystack sends webhooks only from these addresses (PAYSTACK.md).
WEBHOOK_IPS = frozenset({"52.31.139.75", "52.49.173.169", "52.214.14.220"})


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


class Paystack:
    def __init__(self, base_url: str, secret_key: str, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.25, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.secret_key = secret_key
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def for_edge(cls, edge: "Edge") -> "Paystack":
        s = edge.settings
        return cls(s.PAYSTACK_BASE_URL, s.PAYSTACK_SECRET_KEY.reveal(), s.PAYSTACK_TIMEOUT_SECONDS, s.PAYSTACK_RETRIES)

    def _client(self) -> httpx.Client:
        # one short-lived client per call: calls are rare, and nothing is left open at shutdown
        return httpx.Client(base_url=self.base_url, timeout=self.timeout, transport=self.transport, headers={
            "Authorization": f"Bearer {self.secret_key}", "User-Agent": "DigitalDock-edge/1"})

    def request(self, method: str, path: str, retry: bool = True, **kwargs: Any) -> Any:
        """One API call. `retry=False` for calls Paystack cannot deduplicate (a refund has no
        reference of ours): a 5xx then is reported at once instead of risking a second refund."""
        last = "no attempt"
        for attempt in range(self.retries + 1 if retry else 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                with self._client() as client:
                    r = client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                log.warning("paystack_network_error", path=path, attempt=attempt + 1, error=last)
                continue
            if r.status_code >= 500:
                last = f"Paystack answered {r.status_code}"
                log.warning("paystack_server_error", path=path, attempt=attempt + 1, status=r.status_code)
                continue
            try:
                body = r.json()
            except ValueError:
                raise PaystackError(f"Paystack answered {r.status_code} without JSON", r.status_code) from None
            if r.status_code >= 400 or not body.get("status"):
                raise PaystackError(str(body.get("message") or f"Paystack answered {r.status_code}"), r.status_code)
            return body.get("data")
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

    def create_recipient(self, name: str, account_number: str, bank_code: str, currency: str) -> dict[str, Any]:
        return self.request("POST", "/transferrecipient", json={
            "type": "nuban", "name": name, "account_number": account_number, "bank_code": bank_code,
            "currency": currency})

    def transfer(self, amount: int, recipient: str, reference: str, currency: str, reason: str) -> dict[str, Any]:
        return self.request("POST", "/transfer", json={"source": "balance", "amount": amount, "recipient": recipient,
                                                       "reference": reference, "currency": currency, "reason": reason})

    def banks(self, currency: str = "NGN") -> list[dict[str, Any]]:
        return self.request("GET", "/bank", params={"country": "nigeria", "currency": currency, "perPage": 100})


def amount_of(value: Any) -> int | None:
    """An amount field of a Paystack answer or event as minor units, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
