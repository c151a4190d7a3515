"""Errors of accounts: sign-in, sign-in limits, consent. Each is an `AccountsError`, the package's root."""

from __future__ import annotations

from checkout.core.errors import EdgeError, RateLimited


class AccountsError(EdgeError):
    """Root of every error of the accounts package."""


class InvalidCredentials(AccountsError):
    """Raised when an email/password pair does not match (never says which part)."""
    status, code, message = 401, "invalid_credentials", "Email or password is incorrect."


class ConsentRequired(AccountsError):
    """Raised when the user has not accepted the current version of a legal document."""
    status, code, message = 403, "consent_required", "Please accept the updated legal documents to continue."


class TooManySignIns(AccountsError, RateLimited):
    """Raised on sign-in while an address or an IP has used up its failures (429, Retry-After);
    the same for an address with an account and one without, so it reveals neither."""
    code = "too_many_sign_ins"


class AccountDisabled(AccountsError):
    """Raised on login to an account that was disabled or asked to be deleted."""
    status, code, message = 403, "account_disabled", "This account is disabled."


class EmailNotVerified(AccountsError):
    """Raised when an action needs a verified email address."""
    status, code, message = 403, "email_not_verified", "Please verify your email address first."


class AccountBanned(AccountsError):
    """Raised on sign-in (and for API tokens) of an account an administrator banned: a clear
    message, given only to someone who knows the password, as for a disabled account."""
    status, code = 403, "account_banned"
    message = ("This account has been suspended by DigitalDock's administrators and cannot sign in. "
               "We emailed the account's address the reason; reply to that email to appeal.")
