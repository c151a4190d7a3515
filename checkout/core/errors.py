from __future__ import annotations

import math
from typing import Any


class EdgeError(Exception):
    """Root of every error the edge shows to a user."""

    status = 400
    code = "bad_request"
    message = "The request could not be processed."
    expose = True  # False: the message is for the log, a person sees `InternalError` instead

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(self.message)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        body.update(self.extra)
        return body


class ValidationFailed(EdgeError):
    """Raised when submitted data is wrong; `fields` names each bad field."""
    status, code, message = 422, "validation_failed", "Some fields need attention."


class BadRequest(EdgeError):
    """Raised for malformed requests (unparseable JSON, wrong content type)."""
    status, code = 400, "bad_request"


class NotAuthenticated(EdgeError):
    """Raised when a page or endpoint needs a signed-in user and there is none."""
    status, code, message = 401, "not_authenticated", "Please sign in."


class InvalidToken(EdgeError):
    """Raised for forged, expired, already used or revoked tokens and links."""
    status, code, message = 400, "invalid_token", "This link or token is invalid or has expired."


class Forbidden(EdgeError):
    """Raised when the signed-in user may not do this (role, disabled account)."""
    status, code, message = 403, "forbidden", "You are not allowed to do that."


class CsrfFailed(EdgeError):
    """Raised when a state-changing browser request lacks a valid CSRF token."""
    status, code, message = 403, "csrf_failed", "The form expired or was not sent from this site. Please reload the page and try again."


class NotFound(EdgeError):
    """Raised when a page or record does not exist."""
    status, code, message = 404, "not_found", "Not found."


class MethodNotAllowed(EdgeError):
    """Raised when a route exists but not for this HTTP method."""
    status, code, message = 405, "method_not_allowed", "Method not allowed."


class Conflict(EdgeError):
    """Raised when the change conflicts with existing data (duplicate email)."""
    status, code = 409, "conflict"


class PayloadTooLarge(EdgeError):
    """Raised when a request body is over its cap. The answer closes the connection, so the
    server does not go on reading (and discarding) the rest of a body it already refused."""
    status, code, message = 413, "payload_too_large", "The request body is too large."

    def __init__(self, message: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.headers.setdefault("Connection", "close")


class RequestTimeout(EdgeError):
    """Raised when a request body stops arriving; the connection is closed like for a 413."""
    status, code, message = 408, "request_timeout", "The request stopped arriving. Please try again."

    def __init__(self, message: str | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.headers.setdefault("Connection", "close")


def wait_in_words(seconds: float) -> str:
    """How long to wait, rounded up, as a person says it: '1 minute', '12 minutes', '3 hours'."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 120:
        return f"{minutes} minute" + ("s" if minutes != 1 else "")
    return f"{math.ceil(minutes / 60)} hours"


class RateLimited(EdgeError):
    """Raised when a rate limit is exhausted; carries Retry-After."""
    status, code, message = 429, "rate_limited", "Too many attempts. Please wait and try again."
    retry_after: int | None = None  # set by `after`: the message already says when to retry

    @classmethod
    def after(cls, seconds: float, reason: str = "Too many attempts.", **kwargs: Any) -> "RateLimited":
        """The error for a limit that frees up in `seconds`: Retry-After for programs, and the
        same wait in words for people, so nobody has to guess when to come back."""
        wait = max(1, math.ceil(seconds))
        exc = cls(f"{reason} Try again in {wait_in_words(wait)}.", headers={"Retry-After": str(wait)}, **kwargs)
        exc.retry_after = wait
        return exc


class ServiceUnavailable(EdgeError):
    """Raised when something the request needs (legal documents, database) is not available."""
    status, code, message = 503, "unavailable", "The service is temporarily unavailable."


class InternalError(EdgeError):
    """Stands in for any unexpected exception: the user sees this, the log sees the details."""
    status, code, message = 500, "internal_error", "Something went wrong on our side. It has been logged."


HTTP_STATUS_ERRORS: dict[int, type[EdgeError]] = {
    400: BadRequest, 401: NotAuthenticated, 403: Forbidden, 404: NotFound,
    405: MethodNotAllowed, 408: RequestTimeout, 413: PayloadTooLarge, 429: RateLimited, 503: ServiceUnavailable,
}
