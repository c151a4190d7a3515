"""Issue #22: every route's body has a cap that bites at once. Browser forms take
FORM_MAX_BODY_BYTES (64 KiB), the JSON API and webhooks MAX_BODY_BYTES, and a declared
Content-Length over the cap is refused before a byte is read, with the connection closed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from checkout.web.middleware import BodySizeLimitMiddleware

from ..conftest import csrf_from
from ..delivery.uploading import Asgi, chunks

KIB, MIB = 1024, 1024 * 1024


def test_login_refuses_a_form_over_64_kib(client):
    token = csrf_from(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": "a@example.com", "password": "x" * (70 * KIB)})
    assert r.status_code == 413 and "at most 64 KB" in r.text
    assert r.headers["connection"] == "close"


def test_a_declared_two_megabyte_login_is_refused_unread(client):
    call = Asgi(client, {"content-type": "application/x-www-form-urlencoded", "content-length": str(2 * MIB),
                         "accept": "application/json"}, path="/login").run(chunks(forever=True, then=b"x" * KIB))
    assert call.status == 413 and call.pulled == 0 and call.response_headers["connection"] == "close"


def test_a_chunked_login_is_cut_at_the_cap(client):
    call = Asgi(client, {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"},
                path="/login").run(chunks(forever=True, then=b"x" * (16 * KIB)))
    assert call.status == 413 and call.pulled <= 64 * KIB + 16 * KIB


def test_the_json_api_keeps_its_larger_cap(client):
    r = client.post("/api/auth/token", content=b'{"grant_type": "password", "pad": "' + b"x" * (200 * KIB) + b'"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code != 413
    r = client.post("/api/auth/token", content=b"x" * (MIB + 1), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_form_route_cannot_claim_the_api_cap_by_its_content_type(client):
    r = client.post("/login", content=b'{"pad": "' + b"x" * (100 * KIB) + b'"}', headers={"Content-Type": "application/json"})
    assert r.status_code == 413


@given(path=st.sampled_from(["/login", "/checkout", "/api/users", "/webhooks/paystack", "/seller/preview", "/x"]),
       form=st.integers(1, 10 * MIB), api=st.integers(1, 10 * MIB), text=st.integers(1, 10 * MIB))
@settings(max_examples=200, deadline=None)
def test_each_path_gets_exactly_one_cap(path, form, api, text):
    m = BodySizeLimitMiddleware(lambda *a: None, max_bytes=api, form_max_bytes=form, overrides={"/seller/preview": text})
    expected = text if path == "/seller/preview" else api if path.startswith(("/api/", "/webhooks/")) else form
    assert m.cap(path) == expected
