"""Buying through the real edge and the sandbox, signing in, refunding: what reviews stand on."""

from __future__ import annotations

from typing import Any

from ..conftest import csrf_from, login
from ..payments.conftest import PASSWORD, deliver_held, make_buyer

SITE = {"origin": "http://127.0.0.1:8000"}


def edge_of(client):
    return client.app.state.edge


def sign_in(client, email: str, role: str = "buyer", age_days: float = 2) -> dict[str, Any]:
    """An account (made `age_days` ago, so `auto` moderation does not hold it for youth), signed in."""
    edge = edge_of(client)
    client.cookies.clear()
    found = edge.db.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
    if found is None:
        user = make_buyer(edge, email, role=role)
        edge.db.execute("UPDATE users SET created_at = ? WHERE id = ?", (edge.clock.iso(-age_days * 86400), user["id"]))
        edge.db.conn.commit()
    else:
        user = dict(found)
    assert login(client, email, PASSWORD).status_code == 303
    return user


def buy(client, sandbox, email: str, *products: str, age_days: float = 2) -> dict[str, Any]:
    """A signed-in buyer who paid for `products` (cart, Paystack sandbox, webhook)."""
    edge = edge_of(client)
    user = sign_in(client, email, age_days=age_days)
    for slug in products:
        client.post("/cart/add", data={"product": slug}, headers=SITE)
    page = client.get("/buy?cart=1")
    r = client.post("/buy", data={"csrf_token": csrf_from(page.text), "cart": "1"})
    assert r.status_code == 303, r.text
    ref = edge.db.execute("SELECT reference FROM orders ORDER BY id DESC").fetchone()[0]
    sandbox.pay(ref)
    assert deliver_held(client, sandbox.take_held()) == ["paid"]
    return user


def refund(client, sandbox, email: str, product: str) -> None:
    """The buyer asks for a refund of `product`, an admin approves, Paystack's webhook lands."""
    edge = edge_of(client)
    client.cookies.clear()
    assert login(client, email, PASSWORD).status_code == 303
    page = client.get("/orders")
    line = edge.db.execute("SELECT l.id FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN users u"
                           " ON u.id = o.user_id WHERE u.email = ? AND l.product_slug = ?", (email, product)).fetchone()[0]
    r = client.post("/orders/refund", data={"csrf_token": csrf_from(page.text), "line": line,
                                            "reason": "It was not what I expected"})
    assert r.status_code == 303, r.text
    admin_token(client)
    page = client.get("/admin/refunds")
    refund_id = edge.db.execute("SELECT id FROM refunds ORDER BY id DESC").fetchone()[0]
    r = client.post("/admin/refunds", data={"csrf_token": csrf_from(page.text), "refund": refund_id,
                                            "action": "approve"})
    assert r.status_code == 303
    deliver_held(client, sandbox.take_held())
    assert edge.db.execute("SELECT status FROM purchases WHERE order_line_id = ?", (line,)).fetchone()[0] == "refunded"


def token(client, email: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"grant_type": "password", "email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def admin_token(client) -> dict[str, str]:
    edge = edge_of(client)
    if not edge.db.execute("SELECT 1 FROM users WHERE email = 'admin@example.com'").fetchone():
        make_buyer(edge, "admin@example.com", role="admin")
    client.cookies.clear()
    assert login(client, "admin@example.com", PASSWORD).status_code == 303
    return token(client, "admin@example.com")
