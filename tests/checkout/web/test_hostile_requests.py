"""Every route, walked with hostile values in every place a request carries one: never a 5xx.

Path parameters, query parameters and form fields get numbers past 64 bits, negatives,
Unicode digits, text, empty values, repeated (array) values and control characters, as a
signed-in administrator (so every guard is passed and the handler itself is reached) and as
a guest. An id that is not one is a 404 or a 422 naming the field; nothing reaches SQLite
that it cannot hold.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from checkout.accounts import consent, users

from ..conftest import PASSWORD, csrf_from, edge_of, login

HOSTILE = ["99999999999999999999999999", str(2**63), "-1", "0", "١٢٣", "１２", "1e9", "abc", "", " ",
           "\x00", "a\nb", "../../etc/passwd", "<script>alert(1)</script>", "x" * 5000]
FIELDS = ("product", "amount", "purchase_id", "sha256", "line", "reason", "refund", "action", "note", "seller",
          "account_name", "account_number", "bank_code", "currency", "email", "password", "display_name", "role",
          "accept", "token", "next", "remove", "cart", "current_password", "new_password", "status", "limit", "before")
SKIP = {"/logout", "/logout-everywhere", "/account/delete"}  # they end the session the walk runs in


def _routes(app) -> list[tuple[str, str, list[str]]]:
    out = []
    for route in app.routes:
        if isinstance(route, Route):
            params = re.findall(r"{(\w+)(?::\w+)?}", route.path)
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    out.append((method, route.path, params))
    return out


def _fill(path: str, value: str) -> str:
    from urllib.parse import quote

    return re.sub(r"{\w+(?::\w+)?}", quote(value, safe=""), path)


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    edge = edge_of(client)
    users.create_user(edge, "root@example.com", "Root Admin", "admin", edge.hasher.hash(PASSWORD),
                      consent.required_now(edge, "admin"), verified=True, send_verification=False, actor_id=0)
    assert login(client, "root@example.com", PASSWORD).status_code == 303
    return client


def _walk(client: TestClient, token: str) -> list[str]:
    failures = []
    for method, path, params in _routes(client.app):
        if path in SKIP:
            continue
        values = HOSTILE if params else [None]
        for value in values:
            url = _fill(path, value) if value is not None else path
            for query_value in (HOSTILE if method == "GET" else [None])[:4]:
                query = {f: query_value for f in FIELDS} if query_value is not None else None
                if method == "GET":
                    r = client.get(url, params=query)
                else:
                    form = {f: value if value is not None else HOSTILE[0] for f in FIELDS}
                    r = client.request(method, url, data={**form, "csrf_token": token},
                                       headers={"Origin": "http://127.0.0.1:8000"})
                if r.status_code >= 500:
                    failures.append(f"{method} {url} {query_value!r}: {r.status_code}")
    return failures


def _quiet(client: TestClient) -> TestClient:
    """The same app and cookies, answering 500s instead of raising them (the app is already
    started by the `client` fixture, so no second lifespan)."""
    return TestClient(client.app, raise_server_exceptions=False, follow_redirects=False, cookies=dict(client.cookies))


def test_every_route_survives_hostile_values_as_an_admin(admin: TestClient):
    token = csrf_from(admin.get("/account").text)
    assert _walk(_quiet(admin), token) == []


def test_every_route_survives_hostile_values_as_a_guest(client: TestClient):
    c = _quiet(client)
    assert _walk(c, csrf_from(c.get("/login").text)) == []


@given(value=st.text(max_size=40) | st.integers().map(str), field=st.sampled_from(FIELDS))
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_any_form_value_on_the_money_routes_is_a_clear_answer(admin_client, value, field):
    client, token = admin_client
    for path in ("/orders/refund", "/library/link", "/admin/refunds", "/seller/earnings", "/cart/add", "/wishlist"):
        r = client.post(path, data={field: value, "csrf_token": token}, headers={"Origin": "http://127.0.0.1:8000"})
        assert r.status_code < 500, (path, field, value, r.status_code)


@pytest.fixture
def admin_client(admin: TestClient):
    return _quiet(admin), csrf_from(admin.get("/account").text)
