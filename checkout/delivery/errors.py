"""Errors of delivery: download links and uploads. Each is a `DeliveryError`, the package's root."""

from __future__ import annotations

from checkout.core.errors import EdgeError


class DeliveryError(EdgeError):
    """Root of every error of the delivery package."""


class LinkExpired(DeliveryError):
    """Raised for a genuine link past its lifetime; carries what is needed to mint a fresh one."""
    status, code, message = 410, "link_expired", "This download link has expired. Get a fresh one below."


class LinkUsed(DeliveryError):
    """Raised when a link that already started a download is opened again as a new download."""
    status, code, message = 410, "link_used", "This download link was already used. Get a fresh one below."


class DownloadLimit(DeliveryError):
    """Raised when a purchase has used every download of a file."""
    status, code = 403, "download_limit"


class PurchaseInactive(DeliveryError):
    """Raised for a refunded or revoked purchase: it downloads nothing."""
    status, code, message = 403, "purchase_inactive", "This purchase was refunded or revoked, so it has no downloads."


class UploadRefused(DeliveryError):
    """Raised when an uploaded file fails the type check or the virus scan (it is quarantined)."""
    status, code = 422, "upload_refused"


class ScannerUnavailable(DeliveryError):
    """Raised when uploads cannot be virus-scanned: clamd failed mid-scan, or none answers in
    production (uploads fail closed; the web layer raises an alert)."""
    status, code = 503, "scanner_unavailable"
    message = "Uploads are paused: the virus scanner is not available right now. Please try again later."
