"""Credentialed CORS for SITE_URL on the storefront's JSON endpoints (STOREFRONT_JSON) and on
nothing else: a script on the static site cannot read a signed-in buyer's pages."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from checkout.web.auth import STOREFRONT_JSON

SITE = "http://127.0.0.1:8000"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-credentials", "access-control-allow-methods",
                "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age")


def no_cors(response) -> bool:
    return not any(h in response.headers for h in CORS_HEADERS)


def test_a_signed_in_account_page_grants_the_storefront_nothing(signed_in):
    r = signed_in.get("/account", headers={"Origin": SITE})
    assert r.status_code == 200 and "ann@example.com" in r.text
    assert no_cors(r)
    for path in ("/orders", "/library", "/account/export", "/api/me"):
        assert no_cors(signed_in.get(path, headers={"Origin": SITE})), path


def test_preflights_for_other_paths_get_no_cors_headers(client):
    for path in ("/account", "/api/me", "/api/legal", "/login", "/checkout"):
        r = client.options(path, headers={"Origin": SITE, "Access-Control-Request-Method": "GET",
                                          "Access-Control-Request-Headers": "authorization"})
        assert no_cors(r), path


def test_the_cart_summary_is_readable_by_the_storefront_with_credentials(signed_in):
    r = signed_in.get("/api/cart/summary", headers={"Origin": SITE})
    assert r.json() == {"count": 0}
    assert r.headers["access-control-allow-origin"] == SITE
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "origin" in r.headers["vary"].lower()
    pre = signed_in.options("/api/cart/summary", headers={"Origin": SITE, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == SITE
    post = signed_in.options("/api/cart/summary", headers={"Origin": SITE, "Access-Control-Request-Method": "POST"})
    assert post.status_code == 400  # read-only: no other method is granted


def test_another_origin_gets_no_grant_even_on_the_cart_summary(client):
    assert "access-control-allow-origin" not in client.get("/api/cart/summary",
                                                           headers={"Origin": "https://evil.example"}).headers
    pre = client.options("/api/cart/summary", headers={"Origin": "https://evil.example",
                                                       "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in pre.headers


def test_every_route_grants_cors_only_if_it_is_a_storefront_endpoint(client):
    paths = sorted({r.path.replace("{", "").replace("}", "") for r in client.app.routes if isinstance(r, Route)})
    assert set(STOREFRONT_JSON) <= set(paths)

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(paths), origin=st.sampled_from([SITE, SITE + "/", "https://evil.example", "null",
                                                                "http://127.0.0.1:8001"]),
           preflight=st.booleans())
    def check(path, origin, preflight):
        headers = {"Origin": origin}
        if preflight:
            r = client.options(path, headers={**headers, "Access-Control-Request-Method": "GET"})
        else:
            r = client.get(path, headers=headers)
        granted = r.headers.get("access-control-allow-origin")
        if path in STOREFRONT_JSON:
            assert granted == (SITE if origin == SITE else None), (path, origin, preflight)
        else:
            assert no_cors(r), (path, origin, preflight)

    check()
