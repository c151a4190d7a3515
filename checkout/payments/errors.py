"""Errors of payments. Each is a `PaymentsError`, the package's root.

Most of them never reach a person as such: `RetryLater` becomes a 409 for Paystack to deliver
again, `PaystackError` is returned by the `call_*` functions and recorded on the order, refund
or payout it concerns. A `LedgerError` is a bug: the transaction it happened in is rolled back.
"""

from __future__ import annotations

from checkout.core.errors import EdgeError


class PaymentsError(EdgeError):
    """Root of every error of the payments package."""
    status, code = 500, "payments_error"
    expose = False


class RetryLater(PaymentsError):
    """An event arrived before what it depends on (a refund before its payment): answer non-200
    so Paystack delivers it again later, and store nothing now."""
    status, code = 409, "retry_later"
    expose = True


class LedgerError(PaymentsError):
    """A journal that cannot balance, or an entry of zero, was about to be written."""
    status, code = 500, "ledger_error"
    expose = False


class PaystackError(PaymentsError):
    """Paystack refused a request (4xx, `paystack_status`), or could not be reached after every
    retry (`retryable`), or was not asked because the circuit breaker is open (`circuit_open`)."""
    status, code = 502, "payment_provider_error"

    def __init__(self, message: str, paystack_status: int | None = None, retryable: bool = False,
                 circuit_open: bool = False):
        super().__init__(message)
        self.paystack_status = paystack_status
        self.retryable = retryable
        self.circuit_open = circuit_open

    @property
    def not_found(self) -> bool:
        """Paystack does not know the reference: a 404 (its OpenAPI) or a 400 saying "not found"."""
        return self.paystack_status == 404 or (self.paystack_status == 400 and "not found" in self.message.lower())


class PaymentsUnavailable(PaymentsError):
    """Paystack cannot be reached (every retry spent, or the circuit breaker is open): nothing
    was charged, the buyer is asked to come back in a moment."""
    status, code = 503, "payments_unavailable"
    expose = True
    message = "Payments are briefly unavailable. Nothing was charged; please try again in a minute."


class CurrencyNotEnabled(PaymentsError):
    """Paystack refused the order's currency: the merchant's Paystack account does not accept it."""
    status, code = 409, "currency_not_enabled"
    expose = True
