"""Helpers shared by the console tests (issue #16): the repository's content built once into a
storefront, copied per test, an edge on it, accounts, sign-in and sales through the real
webhook path."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from checkout.accounts import users
from checkout.core.catalog import required_documents
from checkout.payments import orders, payouts
from checkout.sandbox import DEFAULT_SECRET, sign

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "blue-otter-harbour-42"
SELLER = "adire-type-foundry"  # sells lagos-grotesk (USD) and adire-display (NGN) in the repository's content


def build_site(base: Path) -> Path:
    """The repository's content and the storefront built from it, under `base`."""
    from generator.build import build

    shutil.copytree(ROOT / "content", base / "content")
    build(base / "output", ROOT / "pelicanconf.py", {"PATH": str(base / "content")})
    return base


def rebuild(site: Path) -> None:
    from generator.build import build

    build(site / "output", ROOT / "pelicanconf.py", {"PATH": str(site / "content")})


def make_account(edge: Any, email: str, role: str, name: str) -> int:
    state = edge.legal()
    docs = [state.legal[s] for s in required_documents(role) if s in state.legal]
    return users.create_user(edge, email, name, role, edge.hasher.hash(PASSWORD), docs, verified=True,
                             send_verification=False, actor_id=0)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


def sign_in(client: Any, email: str) -> None:
    client.cookies.clear()
    page = client.get("/login")
    r = client.post("/login", data={"csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD,
                                    "next": "/account"})
    assert r.status_code == 303, r.text


def post_form(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    got = client.get(page)
    assert got.status_code == 200, (page, got.status_code)
    return client.post(action, data={"csrf_token": csrf_of(got.text), **data})


def shown(client: Any, response: Any) -> str:
    """The page a form's redirect leads to (with its flash)."""
    assert response.status_code == 303, (response.status_code, response.text[:500])
    return client.get(response.headers["location"]).text


def sell(client: Any, buyer: dict[str, Any], slug: str) -> dict[str, Any]:
    """A paid order of `slug` through Paystack's charge.success webhook, as the edge receives it."""
    edge = client.app.state.edge
    order = orders.create_order(edge, buyer, [(slug, None)])
    data = {"id": 4242, "status": "success", "reference": order["reference"], "amount": order["amount"],
            "currency": order["currency"], "fees": 150, "paid_at": edge.clock.iso().replace("+00:00", "Z"),
            "customer": {"email": order["email"]}}
    raw = json.dumps({"event": "charge.success", "data": data}).encode()
    r = client.post("/webhooks/paystack", content=raw,
                    headers={"content-type": "application/json", "x-paystack-signature": sign(DEFAULT_SECRET, raw)})
    assert r.json()["outcome"] == "paid", r.text
    return order


def link(edge: Any, user_id: int, slug: str = SELLER) -> None:
    payouts.link_seller(edge, user_id, slug)
