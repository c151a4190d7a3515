"""Keyset (cursor) pagination for the API's lists, one way for every resource.

A page is the rows with an id below the cursor, newest first. The cursor is opaque to clients
(`base64url("v1:<id>")`), so the ordering can change later without breaking them; a cursor
that does not decode is a 422 naming `cursor`, never a 500. Filters are plain SQL conditions
the caller builds with bound parameters.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from checkout.core.errors import ValidationFailed

MAX_ID = 2**63 - 1


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_json(self, key: str = "data") -> dict[str, Any]:
        return {key: self.items, "next_cursor": self.next_cursor, "has_more": self.next_cursor is not None}


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor stands for, None for no cursor; a 422 naming `cursor` otherwise."""
    if cursor in (None, ""):
        return None
    try:
        raw = base64.urlsafe_b64decode(str(cursor) + "=" * (-len(str(cursor)) % 4)).decode("ascii")
    except (binascii.Error, ValueError, UnicodeError):
        raw = ""
    kind, _, number = raw.partition(":")
    if kind != "v1" or not number.isascii() or not number.isdigit() or len(number) > 19 or not 0 < int(number) <= MAX_ID:
        raise ValidationFailed(fields={"cursor": "is not a cursor this API gave out (use next_cursor as it came)"})
    return int(number)


def keyset(db: Any, select: str, where: list[str], args: list[Any], id_column: str, cursor: str | None,
           limit: int) -> Page:
    """`select` (no WHERE/ORDER) filtered by `where`, below the cursor, newest first, `limit` rows."""
    conditions = list(where)
    values = list(args)
    after = decode_cursor(cursor)
    if after is not None:
        conditions.append(f"{id_column} < ?")
        values.append(after)
    sql = select + (" WHERE " + " AND ".join(conditions) if conditions else "")
    rows = [dict(r) for r in db.execute(f"{sql} ORDER BY {id_column} DESC LIMIT ?", (*values, limit + 1)).fetchall()]
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1]["id"]) if more and rows else None)
