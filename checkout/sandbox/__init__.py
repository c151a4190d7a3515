"""A local Paystack sandbox: `digitaldock sandbox` (see `checkout.sandbox.app`)."""

from .app import DEFAULT_SECRET, Sandbox, sign

__all__ = ["DEFAULT_SECRET", "Sandbox", "sign"]
