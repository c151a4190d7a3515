"""Errors of operations. Each is an `OpsError`, the package's root; the commands that run these
steps print the one-line message and exit non-zero."""

from __future__ import annotations

from checkout.core.errors import EdgeError


class OpsError(EdgeError):
    """Root of every error of the ops package."""
    status, code = 500, "ops_error"
    expose = False


class BackupError(OpsError):
    """A backup, restore or drill step failed; the message says which and why, in one line."""
    code = "backup_failed"


class DeployError(OpsError):
    """A deploy step failed; the message says which. The old version is still serving."""
    code = "deploy_failed"
