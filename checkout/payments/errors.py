"""Errors of payments. Each is a `PaymentsError`, the package's root."""

from __future__ import annotations


class RetryLater(Exception):
    """An event arrived before what it depends on (a refund before its payment): answer non-200
    so Paystack delivers it again later, and store nothing now."""


class LedgerError(Exception):
    """A journal that cannot balance, or an entry of zero, was about to be written."""


class PaystackError(Exception):
    """Paystack refused a request (4xx), or could not be reached after every retry (`retryable`)."""

    def __init__(self, message: str, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
