"""Fixtures for payments: a catalogue with products, the Paystack sandbox as a real HTTP server
in a thread, an edge client pointed at it, signed-in buyers, and webhook delivery helpers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkout.accounts import users
from checkout.core.catalog import required_documents
from checkout.sandbox import DEFAULT_SECRET, Sandbox, sign

from ...servers import Server, serve

DOCS = ("terms", "privacy", "refunds", "seller-agreement", "content-guidelines")
PASSWORD = "blue-otter-harbour-42"
PRODUCTS = {
    "lagos-grotesk": {"title": "Lagos Grotesk", "seller": "ada", "category": "fonts", "price": 500000,
                      "currency": "NGN", "pwyw_minimum": None, "url": "/products/lagos-grotesk/"},
    "kente-template": {"title": "Kente Template", "seller": "kofi", "category": "templates", "price": 1200000,
                       "currency": "NGN", "pwyw_minimum": None, "url": "/products/kente-template/"},
    "zine-kit": {"title": "Zine Kit", "seller": "ada", "category": "graphics", "price": 1000, "currency": "USD",
                 "pwyw_minimum": 500, "url": "/products/zine-kit/"},
    "odd-pennies": {"title": "Odd Pennies", "seller": "kofi", "category": "audio", "price": 7777,
                    "currency": "NGN", "pwyw_minimum": None, "url": "/products/odd-pennies/"},
}


def write_shop_catalog(path: Path, products: dict[str, Any] | None = None, build_hash: str = "cat-1") -> None:
    legal = {s: {"title": s.replace("-", " ").title(), "version": "1.0", "effective": "2026-11-01",
                 "url": f"/legal/{s}/"} for s in DOCS}
    products = PRODUCTS if products is None else products
    full = {slug: {"category": "fonts", "version": "1.0", "license": "personal", "cover": "/c.png", "files": [], **p}
            for slug, p in products.items()}
    data = {"schema_version": 1, "build_hash": build_hash, "site_url": "http://127.0.0.1:8000", "products": full,
            "sellers": {"ada": {"name": "Ada", "payout_currency": "NGN", "url": "/sellers/ada/"},
                        "kofi": {"name": "Kofi", "payout_currency": "NGN", "url": "/sellers/kofi/"}},
            "categories": [{"slug": "fonts", "name": "Fonts"}], "legal": legal}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:  # overrides the edge's catalogue: this one sells things
    path = tmp_path / "catalog.json"
    write_shop_catalog(path)
    return path


class SandboxHandle:
    def __init__(self, box: Sandbox, server: Server):
        self.box, self.server, self.url = box, server, server.url

    def faults(self, **faults: Any) -> dict[str, Any]:
        r = httpx.post(f"{self.url}/_sandbox/faults", json=faults,
                       headers={"Authorization": f"Bearer {self.box.secret_key}"})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def pay(self, reference: str, action: str = "pay") -> dict[str, Any]:
        r = httpx.post(f"{self.url}/_sandbox/pay/{reference}", json={"action": action},
                       headers={"Authorization": f"Bearer {self.box.secret_key}"})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def take_held(self) -> list[dict[str, Any]]:
        held, self.box.held = list(self.box.held), []
        return held


@pytest.fixture
def sandbox():
    box = Sandbox(DEFAULT_SECRET, "")
    box.faults["hold_webhooks"] = True  # in-process tests deliver webhooks themselves
    with serve(box.app(), name="sandbox") as server:
        yield SandboxHandle(box, server)


@pytest.fixture
def shop(make_client, sandbox):
    """An edge client whose PAYSTACK_BASE_URL is the sandbox."""
    return make_client(PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1)


def deliver(client, body: bytes | dict, signature: str | None = None, secret: str = DEFAULT_SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    sig = sign(secret, raw) if signature is None else signature
    return client.post("/webhooks/paystack", content=raw,
                       headers={"content-type": "application/json", "x-paystack-signature": sig})


def deliver_held(client, items: list[dict[str, Any]]) -> list[str]:
    outcomes = []
    for item in items:
        r = client.post("/webhooks/paystack", content=item["body"],
                        headers={"content-type": "application/json", "x-paystack-signature": item["signature"]})
        outcomes.append(r.json().get("outcome") or r.json().get("code"))
    return outcomes


def make_buyer(edge, email: str = "buyer@example.com", role: str = "buyer", verified: bool = True) -> dict[str, Any]:

    state = edge.legal()
    docs = [state.legal[s] for s in required_documents(role) if s in state.legal]
    uid = users.create_user(edge, email, email.split("@")[0].title(), role, edge.hasher.hash(PASSWORD), docs,
                               verified=verified, send_verification=False, actor_id=0)
    return dict(users.get_user(edge, uid))
