"""Search at the edge (issue #15): the results page the search form reaches without JavaScript
and `GET /api/products/search`, answering from the storefront's own index files with the same
rules as the browser; hostile parameters get a 422 naming the field."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.core.settings import load_settings
from checkout.web.app import create_app
from digitaldock.search import Index

from ..conftest import FAST

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parents[3]
SITE = "https://shop.example"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    from generator.build import build

    return build(tmp_path_factory.mktemp("site") / "output", ROOT / "pelicanconf.py",
                 overrides={"PATH": str(ROOT / "content"), "THEME": str(ROOT / "digitaldock/theme"),
                            "PLUGIN_PATHS": [str(ROOT)]})


@pytest.fixture(scope="module")
def client(site: Path, tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(data), SITE_URL=SITE,
                                   CATALOG_PATH=str(site / "catalog.json"), CONTENT_DIR=str(ROOT / "content"), **FAST))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def titles(r) -> list[str]:
    return [p["title"] for p in r.json()["results"]]


def test_the_results_page_answers_the_typed_query(client):
    r = client.get("/search", params={"q": "lofi"})
    assert r.status_code == 200
    assert 'value="lofi"' in r.text and "Afro Lo-Fi Beats" in r.text
    assert f'href="{SITE}/products/afro-lofi-beats/"' in r.text  # cards link to the storefront
    assert 'content="noindex, follow"' in r.text
    assert "1 product found" in r.text


def test_filters_and_sorting_carry_through_the_page(client):
    r = client.get("/search", params={"q": "template", "category": "Templates", "sort": "price-low"})
    assert r.status_code == 200
    assert 'name="category" value="Templates" checked' in r.text
    assert '<option value="price-low" selected>' in r.text
    r = client.get("/search", params={"q": "stdio zzzz"})
    assert "Did you mean" in r.text and 'href="/search?q=studio"' in r.text


def test_pages_of_results(client):
    r = client.get("/api/products/search", params={"page": "1"})
    total = r.json()["total"]
    assert total == len(titles(r)) or r.json()["per_page"] == 24
    r = client.get("/search", params={"page": "2"})
    assert r.status_code == 200


def test_the_api_answers_as_the_browser_rules_do(client, site: Path):
    index = Index(lambda name: (site / "search" / name).read_bytes())
    for q, sort in (("lo-fi", ""), ("studio", ""), ("templte", "price-high"), ("Lo Fi", "newest"), ("", "rating")):
        r = client.get("/api/products/search", params={"q": q, "sort": sort})
        assert r.status_code == 200
        want = [c["t"] for c in index.cards(index.search(q, {}, sort).ids[:24])]
        assert titles(r) == want, q
    body = client.get("/api/products/search", params={"q": "studio", "price": "USD:1"}).json()
    assert body["filters"] == {"price": ["USD:1"]}
    assert body["results"] and all("$" in p["price"] for p in body["results"])  # one currency's band
    prices = {f["value"]: f for f in client.get("/api/products/search").json()["facets"]["price"]}
    assert prices["NGN:1"]["label"] == "₦5,000 to ₦15,000"


def test_before_a_build_the_page_says_so_and_the_api_finds_nothing(tmp_path: Path):
    catalog = tmp_path / "out" / "catalog.json"
    catalog.parent.mkdir()
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(tmp_path / "data"),
                                   CATALOG_PATH=str(catalog), CONTENT_DIR=str(ROOT / "content"), **FAST))
    with TestClient(app) as c:
        r = c.get("/search", params={"q": "x"})
        assert r.status_code == 200 and "until the catalogue has been built" in r.text
        body = c.get("/api/products/search", params={"q": "x"}).json()
        assert body["available"] is False and body["total"] == 0 and body["results"] == []


def test_a_rebuilt_index_is_read_again(site: Path, tmp_path: Path):
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(site, copy)
    app = create_app(load_settings(environ={}, dotenv=None, DIGITALDOCK_DATA_DIR=str(tmp_path / "data"),
                                   CATALOG_PATH=str(copy / "catalog.json"), CONTENT_DIR=str(ROOT / "content"), **FAST))
    with TestClient(app) as c:
        assert c.get("/api/products/search", params={"q": "lofi"}).json()["total"] == 1
        entry = copy / "search" / "index.json"
        entry.write_text("not json")
        st_ = entry.stat()
        os.utime(entry, ns=(st_.st_atime_ns, st_.st_mtime_ns + 2_000_000_000))
        assert c.get("/api/products/search", params={"q": "lofi"}).json()["available"] is False


def test_bad_parameters_name_the_field(client):
    cases = [({"q": "x" * 201}, "q"), ({"q": "a\x00b"}, "q"), ({"sort": "cheapest"}, "sort"),
             ({"page": "0"}, "page"), ({"page": "١"}, "page"), ({"price": "EUR:1"}, "price"),
             ({"category": "Nope"}, "category"), ({"rating": "9"}, "rating")]
    for params, field in cases:
        r = client.get("/api/products/search", params=params)
        assert r.status_code == 422 and field in r.json()["fields"], (params, r.text)
        page = client.get("/search", params=params)
        assert page.status_code == 422 and f"{field}:" in page.text
    r = client.get("/api/products/search?q=a&q=b")
    assert r.status_code == 422 and "q" in r.json()["fields"]
    r = client.get("/api/products/search", params=[("category", "Fonts")] * 51)
    assert r.status_code == 422 and "category" in r.json()["fields"]


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(params=st.lists(st.tuples(st.sampled_from(["q", "category", "price", "rating", "sort", "page", "x"]),
                                 st.one_of(TEXT, st.sampled_from(["Fonts", "USD:1", "4", "price-low", "2"]))),
                       max_size=6))
def test_any_parameters_answer_or_name_the_field(client, params):
    for path in ("/api/products/search", "/search"):
        r = client.get(path, params=params)
        assert r.status_code in (200, 422), (params, r.status_code)
        if r.status_code == 422 and path.startswith("/api"):
            assert set(r.json()["fields"]) <= {"q", "category", "price", "rating", "sort", "page"}
            assert r.json()["fields"]
