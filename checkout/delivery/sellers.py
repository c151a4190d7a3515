"""Which catalogue seller a user account sells as."""

from __future__ import annotations

from checkout.core.context import Edge


def seller_slug_of(edge: "Edge", user_id: int) -> str | None:
    if edge.db["seller_accounts"].exists():
        row = edge.db.execute("SELECT seller_slug FROM seller_accounts WHERE user_id = ? ORDER BY created_at LIMIT 1",
                              (user_id,)).fetchone()
        if row:
            return str(row[0])
    row = edge.db.execute("SELECT seller_slug FROM submissions WHERE user_id = ? AND seller_slug IS NOT NULL"
                          " ORDER BY id LIMIT 1", (user_id,)).fetchone()
    return str(row[0]) if row else None
