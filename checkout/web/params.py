"""Ids and numbers from a request, parsed in one place, with bounds.

Every id a request carries (a path segment, a form field, a query parameter) goes through here
before it reaches SQLite, which cannot hold an integer past 2**63 - 1 (an id beyond 64 bits
once answered 500). Anything that is not a plain ASCII number in range (negative, huge,
Unicode digits, empty, a list) is refused: an unknown-looking id in a path is the same 404 as
an id that does not exist, a bad form field is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from checkout.core.errors import NotFound, ValidationFailed

MAX_ID = 2**63 - 1


def _as_int(value: Any, lo: int, hi: int) -> int | None:
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if lo <= number <= hi else None


def path_id(request: Any, name: str) -> int:
    """A positive id from the path; 404 for anything else."""
    found = _as_int(request.path_params.get(name), 1, MAX_ID)
    if found is None:
        raise NotFound()
    return found


def path_index(request: Any, name: str, size: int) -> int:
    """An index into a list of `size` items from the path; 404 for anything else."""
    found = _as_int(request.path_params.get(name), 0, size - 1) if size else None
    if found is None:
        raise NotFound()
    return found


def form_id(form: Any, field: str, message: str = "Choose one from the list.") -> int:
    """A positive id from a submitted form field; 422 naming the field for anything else."""
    value = form.get(field)
    found = _as_int(value if isinstance(value, str) else None, 1, MAX_ID)
    if found is None:
        raise ValidationFailed(fields={field: message})
    return found


def optional_id(query: Any, name: str) -> int | None:
    """A positive id from the query string, or None when it is absent; 422 when it is not one."""
    value = query.get(name)
    if value in (None, ""):
        return None
    found = _as_int(value, 1, MAX_ID)
    if found is None:
        raise ValidationFailed(fields={name: "must be a whole number"})
    return found


def bounded_int(value: Any, field: str, lo: int, hi: int) -> int:
    """A whole number within [lo, hi] (an index, a limit); 422 naming the field otherwise."""
    found = _as_int(value if isinstance(value, str) else None, lo, hi)
    if found is None:
        raise ValidationFailed(fields={field: f"must be a whole number from {lo} to {hi}"})
    return found
