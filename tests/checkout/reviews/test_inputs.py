"""Hostile input to every new entry point of reviews and the wishlist (JSON bodies, form fields,
query parameters): wrong types, encodings, control characters, huge sizes get a clear 4xx naming
the field and change nothing; never a 500."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.settings import load_settings
from checkout.sandbox import DEFAULT_SECRET, Sandbox
from checkout.web.app import create_app

from ...servers import serve
from ..conftest import FAST, csrf_from
from ..payments.conftest import SandboxHandle, write_shop_catalog
from .helpers import SITE, admin_token, buy, token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT,
                st.just("é" * 5001), st.lists(st.integers(), max_size=3),
                st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
CLEAR = {201, 202, 204, 400, 403, 404, 409, 422}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base: Path = tmp_path_factory.mktemp("review-inputs")
    write_shop_catalog(base / "catalog.json")
    box = Sandbox(DEFAULT_SECRET, "")
    box.faults["hold_webhooks"] = True
    with serve(box.app(), name="sandbox") as server:
        sandbox = SandboxHandle(box, server)
        app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(base / "data"),
                                       CATALOG_PATH=str(base / "catalog.json"), CONTENT_DIR=str(base / "content"),
                                       PAYSTACK_BASE_URL=sandbox.url, PAYSTACK_RETRIES=1, REVIEW_LIMIT="100000/hour",
                                       REBUILD_ON_APPROVAL=False, **FAST))
        with TestClient(app, follow_redirects=False) as client:
            buy(client, sandbox, "ann@example.com", "lagos-grotesk", "kente-template")
            ann = token(client, "ann@example.com")
            review = client.post("/api/reviews", headers=ann, json={"product": "kente-template", "rating": 3}).json()
            admin = admin_token(client)
            client.cookies.clear()
            yield {"client": client, "ann": ann, "admin": admin, "review": review["id"], "edge": app.state.edge}


def _count(world) -> int:
    return world["edge"].db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]


def _clear(r) -> None:
    assert r.status_code in CLEAR, (r.status_code, r.text[:300])
    if r.status_code == 422:
        assert r.json()["fields"], r.text


@SETTINGS
@given(product=ANY, rating=ANY, title=ANY, body=ANY)
def test_create_takes_good_input_and_refuses_the_rest_naming_the_field(world, product, rating, title, body):
    client = world["client"]
    before = _count(world)
    r = client.post("/api/reviews", headers=world["ann"],
                    json={"product": product, "rating": rating, "title": title, "body": body})
    _clear(r)
    if r.status_code == 201:
        assert client.delete(f"/api/reviews/{r.json()['id']}", headers=world["ann"]).status_code == 204
    assert _count(world) == before


@SETTINGS
@given(data=st.one_of(ANY, st.dictionaries(st.sampled_from(["rating", "title", "body"]), ANY)))
def test_edit_changes_only_with_good_input(world, data):
    client, rid = world["client"], world["review"]
    before = dict(world["edge"].db.execute("SELECT rating, title, body FROM reviews WHERE id = ?", (rid,)).fetchone())
    r = client.put(f"/api/reviews/{rid}", headers=world["ann"], json=data)
    assert r.status_code in (200, 400, 422), r.text
    after = dict(world["edge"].db.execute("SELECT rating, title, body FROM reviews WHERE id = ?", (rid,)).fetchone())
    if r.status_code != 200:
        assert after == before
        if r.status_code == 422:
            assert r.json()["fields"]


@SETTINGS
@given(raw=st.binary(max_size=300), path_id=st.one_of(TEXT, st.integers()))
def test_bodies_that_are_not_json_and_odd_ids(world, raw, path_id):
    client = world["client"]
    r = client.post("/api/reviews", headers={**world["ann"], "content-type": "application/json"}, content=raw)
    _clear(r)
    from urllib.parse import quote

    r = client.put(f"/api/reviews/{quote(str(path_id), safe='')}", headers=world["ann"], json={"rating": 4})
    assert r.status_code in (200, 307, 403, 404, 405, 422), r.text  # 307: an empty id is the collection's path


@SETTINGS
@given(sort=st.one_of(TEXT, st.sampled_from(["newest", "highest", "lowest", "helpful"])),
       page=st.one_of(TEXT, st.integers()), per_page=st.one_of(TEXT, st.integers()))
def test_list_parameters(world, sort, page, per_page):
    query = {k: str(v) for k, v in {"sort": sort, "page": page, "per_page": per_page}.items() if v is not None}
    r = world["client"].get("/api/reviews/product/kente-template", params=query)
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert set(r.json()["fields"]) <= {"sort", "page", "per_page"} and r.json()["fields"]
    html = world["client"].get("/reviews/kente-template", params=query)
    assert html.status_code == 200


@SETTINGS
@given(reason=ANY)
def test_hide_and_report_reasons(world, reason):
    client = world["client"]
    r = client.post(f"/api/reviews/{world['review']}/report", headers=world["admin"], json={"reason": reason})
    _clear(r)
    r = client.post(f"/api/reviews/{world['review']}/hide", headers=world["admin"], json={"reason": reason})
    assert r.status_code in (200, 422), r.text
    client.post(f"/api/reviews/{world['review']}/approve", headers=world["admin"])


@SETTINGS
@given(product=TEXT, rating=TEXT, title=TEXT, body=TEXT)
def test_the_review_form_never_fails(world, product, rating, title, body):
    client = world["client"]
    client.cookies.clear()
    from ..conftest import login
    from ..payments.conftest import PASSWORD

    login(client, "ann@example.com", PASSWORD)
    page = client.get("/reviews/lagos-grotesk")
    before = _count(world)
    r = client.post("/reviews/lagos-grotesk", data={"csrf_token": csrf_from(page.text), "rating": rating,
                                                    "title": title, "body": body})
    assert r.status_code in (303, 403, 409, 422), r.status_code
    if r.status_code == 303 and _count(world) > before:
        mine = world["edge"].db.execute("SELECT id FROM reviews WHERE product_slug = 'lagos-grotesk'").fetchone()[0]
        assert client.delete(f"/api/reviews/{mine}", headers=world["ann"]).status_code == 204
    r = client.post("/wishlist/save", data={"product": product}, headers=SITE)
    assert r.status_code in (303, 404), r.status_code
    client.cookies.clear()
