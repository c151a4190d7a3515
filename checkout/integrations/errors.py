"""Errors of integrations. Each is an `IntegrationsError`, the package's root."""

from __future__ import annotations

from checkout.core.errors import EdgeError


class IntegrationsError(EdgeError):
    """Root of every error of the integrations package."""


class UnsafeEndpoint(IntegrationsError):
    """Raised when a webhook URL is not an http(s) address on the public internet (a private,
    loopback, link-local or otherwise reserved address, or a name that resolves to one)."""
    status, code = 422, "unsafe_endpoint"
