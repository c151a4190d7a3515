"""Public previews (#15): `/preview/<sha256>` serves a product's declared sample to anyone,
inline and resumable, and nothing else: never a paid file, even one another product declares."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import PDF, file_entry

CLIP = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200


def with_preview(shop, slug: str, data: bytes, name: str = "clip.wav") -> dict:
    entry = {**shop.store(data), "name": name}
    shop.products[slug]["preview"] = entry
    shop.write()
    return entry


def test_anyone_gets_the_preview_inline_and_can_seek_in_it(client, shop):
    entry = with_preview(shop, "budget-planner", CLIP)
    r = client.get(f"/preview/{entry['sha256']}")
    assert r.status_code == 200 and r.content == CLIP
    assert r.headers["content-type"] == "audio/x-wav" and r.headers["content-disposition"].startswith("inline")
    part = client.get(f"/preview/{entry['sha256']}", headers={"Range": "bytes=4-11"})
    assert part.status_code == 206 and part.content == CLIP[4:12]
    assert client.head(f"/preview/{entry['sha256']}").status_code == 200


def test_a_paid_file_is_never_served_as_a_preview(client, shop):
    paid = shop.products["budget-planner"]["files"][0]
    assert client.get(f"/preview/{paid['sha256']}").status_code == 404
    # even when another product (wrongly) declares it as its preview
    shop.products["font-pack"]["preview"] = dict(paid)
    shop.write()
    r = client.get(f"/preview/{paid['sha256']}")
    assert r.status_code == 404 and PDF not in r.content


def test_an_unknown_or_withdrawn_preview_is_not_found(client, shop):
    entry = with_preview(shop, "budget-planner", CLIP)
    assert client.get(f"/preview/{hashlib.sha256(b'x').hexdigest()}").status_code == 404
    del shop.products["budget-planner"]["preview"]
    shop.write()
    assert client.get(f"/preview/{entry['sha256']}").status_code == 404
    assert file_entry("x", CLIP)["sha256"] == entry["sha256"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=300))
def test_any_path_answers_404_and_serves_nothing(client, shop, name):
    r = client.get("/preview/" + quote(name, safe=""))
    assert r.status_code in (307, 404, 405) and PDF not in r.content  # 307: a dot segment, normalised
