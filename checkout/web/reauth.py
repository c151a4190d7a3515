"""Proving it is still the account's owner before a sensitive change (password, email, payout
account, deletion): the current password, or for a payout account also a sign-in of the last
SENSITIVE_REAUTH_MINUTES.

A wrong current password counts as a failed sign-in of the account's address (and of the IP),
so a stolen session cannot be used to guess the password on these forms either.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from checkout.accounts import lockout, passwords, sessions
from checkout.core.errors import ValidationFailed
from checkout.web.base import client_ip, edge_of


async def check_current_password(request: Request, user: Any, password: str, field: str = "current_password",
                                 wrong: str = "Your current password is not correct.") -> None:
    """Raise ValidationFailed naming `field` unless `password` is the user's; TooManySignIns (429)
    once the address or the IP has used up its failures."""
    edge = edge_of(request)
    attempt = lockout.start(edge, user["email"], client_ip(request))
    ok = await run_in_threadpool(passwords.verify, edge.hasher, user["password_hash"], password or "")
    if not ok:
        lockout.failed(edge, attempt, user, reason="wrong_current_password")
        raise ValidationFailed(fields={field: wrong})
    lockout.succeeded(edge, attempt)


def signed_in_recently(request: Request, user: Any) -> bool:
    """Whether this browser session began (with a password) within SENSITIVE_REAUTH_MINUTES."""
    edge = edge_of(request)
    since = sessions.signed_in_at(edge, getattr(user, "session_id", None))
    return since is not None and edge.clock() - since <= edge.settings.SENSITIVE_REAUTH_MINUTES * 60


async def confirm_identity(request: Request, user: Any, password: str) -> None:
    """A password, when given, must be right; none is needed only right after signing in."""
    if not password and signed_in_recently(request, user):
        return
    if not password:
        minutes = edge_of(request).settings.SENSITIVE_REAUTH_MINUTES
        raise ValidationFailed(fields={"current_password": "Enter your current password (it is asked for when "
                                                           f"you signed in more than {minutes} minutes ago)."})
    await check_current_password(request, user, password)
