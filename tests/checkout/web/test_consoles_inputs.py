"""Hostile input to the consoles' new entry points (issue #16) gets a clear answer naming the field,
never a 500: the user search, the account actions of the API, the report form, the public page
form, the view counter and the report pages' parameters."""

from __future__ import annotations

import shutil
import warnings
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.settings import load_settings
from checkout.web.app import create_app

from ..conftest import FAST
from .consoles import PASSWORD, SELLER, build_site, csrf_of, link, make_account, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    base = tmp_path_factory.mktemp("inputs")
    site = build_site(base / "site")
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(base / "data"),
                                   CATALOG_PATH=str(site / "output" / "catalog.json"), CONTENT_DIR=str(site / "content"),
                                   REBUILD_ON_APPROVAL=False, **FAST))
    with TestClient(app, follow_redirects=False) as client:
        edge = app.state.edge
        ids = {"admin": make_account(edge, "root@example.com", "admin", "Root Admin"),
               "seller": make_account(edge, "ade@example.com", "seller", "Ade Foundry"),
               "buyer": make_account(edge, "bea@example.com", "buyer", "Bea Buyer"),
               "target": make_account(edge, "tom@example.com", "buyer", "Tom Target")}  # the actions' own
        link(edge, ids["seller"])
        token = client.post("/api/auth/token", json={"grant_type": "password", "email": "root@example.com",
                                                     "password": PASSWORD}).json()["access_token"]
        yield client, ids, {"Authorization": f"Bearer {token}"}, shutil


@SETTINGS
@given(q=TEXT)
def test_any_search_answers(app_client, q):
    client, ids, auth, _ = app_client
    r = client.get("/api/admin/users", params={"q": q}, headers=auth)
    assert r.status_code == 200 and isinstance(r.json()["users"], list)


@SETTINGS
@given(action=st.sampled_from(["ban", "unban", "verify", "unverify", "role"]), reason=st.one_of(TEXT, st.integers(),
       st.none(), st.lists(st.integers(), max_size=2)), role=st.one_of(TEXT, st.sampled_from(["buyer", "seller"])))
def test_any_account_action_is_done_or_refused_with_a_field(app_client, action, reason, role):
    client, ids, auth, _ = app_client
    r = client.post(f"/api/admin/users/{ids['target']}/{action}", json={"reason": reason, "role": role}, headers=auth)
    assert r.status_code in (200, 409, 422), r.text
    if r.status_code == 422:
        assert r.json()["fields"] or r.json()["message"]
    if r.status_code == 200 and r.json()["user"]["banned"]:  # undo, so the next example starts over
        client.post(f"/api/admin/users/{ids['target']}/unban", json={"reason": "undo"}, headers=auth)


@SETTINGS
@given(params=st.dictionaries(st.sampled_from(["from", "to", "period", "group", "format", "hours", "q", "page"]),
                              TEXT, max_size=5))
def test_any_report_parameters_answer_or_name_the_field(app_client, params):
    client, ids, auth, _ = app_client
    if "root@example.com" not in client.get("/account").text:
        sign_in(client, "root@example.com")
    for path in ("/admin/reports", "/admin/reports/payouts", "/admin/metrics", "/admin/users"):
        r = client.get(path, params=params)
        assert r.status_code in (200, 422), (path, params, r.status_code)


@SETTINGS
@given(slug=TEXT, agent=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200))
def test_the_view_counter_answers_204_to_anything(app_client, slug, agent):
    client, *_ = app_client
    r = client.post(f"/v/{quote(slug, safe='') or 'x'}", headers={"User-Agent": agent})
    assert r.status_code in (204, 404) and "set-cookie" not in r.headers


@SETTINGS
@given(reason=TEXT, details=TEXT, product=st.sampled_from(["lagos-grotesk", "no-such", ""]))
def test_any_report_of_a_product_is_filed_or_refused_with_a_field(app_client, reason, details, product):
    client, *_ = app_client
    sign_in(client, "bea@example.com")
    token = csrf_of(client.get("/account").text)
    r = client.post("/report", data={"csrf_token": token, "product": product, "reason": reason, "details": details})
    assert r.status_code in (200, 404, 409, 422)


@SETTINGS
@given(name=TEXT, bio=TEXT, website=TEXT, links=TEXT, location=TEXT, action=st.sampled_from(["preview", "save"]))
def test_any_public_page_form_is_previewed_saved_or_refused_with_a_field(app_client, name, bio, website, links,
                                                                         location, action):
    client, *_ = app_client
    sign_in(client, "ade@example.com")
    token = csrf_of(client.get("/seller/profile").text)
    r = client.post("/seller/profile", data={"csrf_token": token, "seller": SELLER, "name": name, "bio": bio,
                                             "website": website, "links": links, "location": location,
                                             "action": action})
    assert r.status_code in (200, 303, 422), r.text[:300]
