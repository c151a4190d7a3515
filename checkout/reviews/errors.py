"""Errors of reviews. Each is a `ReviewsError`, the package's root."""

from __future__ import annotations

from checkout.core.errors import EdgeError


class ReviewsError(EdgeError):
    """Root of every error of the reviews package."""


class NotABuyer(ReviewsError):
    """Raised when someone without a purchase (or with a refunded one) tries to review a product."""
    status, code = 403, "not_a_buyer"
    message = "Only buyers who own this product (a purchase not refunded) can review it."


class NotYours(ReviewsError):
    """Raised when an account edits, deletes or replies to a review it may not."""
    status, code, message = 403, "not_your_review", "You can only change your own review."


class AlreadyReviewed(ReviewsError):
    """Raised for a second review of one product by one buyer: edit the first instead."""
    status, code, message = 409, "already_reviewed", "You already reviewed this product; edit your review instead."
