"""Issue #22 and #20, uploads: what is inside an upload. Covers and gallery images are raster
only (SVG refused, whatever hides in it), file names are plain names (no paths, drives, control
characters or markup), images are bounded in pixels before they are decoded and decoded one at
a time, and uploads are scanned whenever a clamd answers, failing closed in production."""

from __future__ import annotations

import io
import json
import threading
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from checkout.delivery import uploads
from checkout.delivery.uploads import Part, check_part

from .uploading import PDF, csrf, multipart, png, post_raw, state  # noqa: F401

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
PRODUCTION = {"DIGITALDOCK_ENV": "production", "SECRET_KEY": "k" * 40, "JWT_SECRET": "j" * 40,
              "PAYSTACK_SECRET_KEY": "sk_live_x"}

# SVGs that carry script in forms other than a plain <script> element
HIDDEN_SCRIPT_SVGS = {
    "namespaced script": b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg">'
                         b"<s:script>alert(document.domain)</s:script></svg>",
    "XHTML script": b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><h:script '
                    b'xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script></foreignObject></svg>',
    "entity-encoded javascript: link": b'<svg xmlns="http://www.w3.org/2000/svg" '
                                       b'xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href='
                                       b'"&#106;avascript:alert(1)"><rect width="9" height="9"/></a></svg>',
    "foreignObject iframe srcdoc": b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="9" height="9">'
                                   b'<iframe xmlns="http://www.w3.org/1999/xhtml" srcdoc="&lt;script&gt;alert(1)'
                                   b'&lt;/script&gt;"/></foreignObject></svg>',
    "harmless drawing": b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>',
}


# --- 1. SVG refused at upload ------------------------------------------------------------------

@pytest.mark.parametrize("field_name, label", [("cover", "Cover image"), ("images", "Gallery images")])
@pytest.mark.parametrize("kind", list(HIDDEN_SCRIPT_SVGS))
def test_svg_covers_and_gallery_images_are_refused_whatever_they_hide(seller, helpers, field_name, label, kind):
    client = seller()
    files = [("files", b"a.pdf", PDF), ("cover", b"cover.png", png())]
    files = [f for f in files if f[0] != field_name] + [(field_name, b"drawing.svg", HIDDEN_SCRIPT_SVGS[kind])]
    r = post_raw(client, multipart(csrf(client, helpers), files))
    assert r.status_code == 422 and r.json()["code"] == "upload_refused"
    message = r.json()["fields"][field_name]
    assert message.startswith(f"{label}: drawing.svg was refused") and "SVG images are not accepted" in message
    assert "PNG, JPEG, GIF or WebP" in message
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_the_form_offers_raster_images_only_and_says_so(seller):
    page = seller().get("/seller/products").text
    assert page.count('accept="image/png,image/jpeg,image/gif,image/webp"') == 2
    assert "PNG, JPEG, GIF or WebP (SVG is not accepted)" in page
    assert "up to 10 MB and 25 megapixels" in page
    assert 'accept="image/*"' not in page


# --- 2. file names -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, problem", [
    (b"guide\x00.pdf", "control characters"),
    (b"guide%0A.pdf", "control characters"),  # a browser sends a line break in a name as %0A
    (b"C:\\Users\\sam\\guide.pdf", "not a path"),  # python-multipart alone would keep "guide.pdf"
    (b"\\\\\\\\server\\\\share\\\\guide.pdf", "not a path"),
    (b"C:guide.pdf", "without a drive"),
    (b"books/guide.pdf", "not a path"),
    (b"..", "not a path"),
    (b"<img src=x onerror=alert(1)>.pdf", "must not contain < >"),
    (b"guide\xe2\x80\xaefdp.exe", "override characters"),  # U+202E shows "guideexe.pdf"
    (b"\xff\xfeguide.pdf", "not valid UTF-8"),
])
def test_dangerous_file_names_are_refused_naming_the_field_and_the_problem(seller, helpers, raw, problem):
    client = seller()
    r = post_raw(client, multipart(csrf(client, helpers), [("files", raw, PDF), ("cover", b"cover.png", png())]))
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    message = r.json()["fields"]["files"]
    assert message.startswith("Product files: the file name") and problem in message, message
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_a_cover_name_is_checked_too_and_named_as_the_cover(seller, helpers):
    client = seller()
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"../c.png", png())]))
    assert r.status_code == 422 and r.json()["fields"]["cover"].startswith("Cover image: the file name")


def test_a_decomposed_name_is_stored_composed(seller, helpers):
    client = seller()
    nfd = unicodedata.normalize("NFD", "Café guide.pdf")
    r = post_raw(client, multipart(csrf(client, helpers), [("files", nfd.encode(), PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 201, r.text
    files = json.loads(client.app.state.edge.db.execute("SELECT files FROM submissions").fetchone()[0])
    assert files[0]["name"] == unicodedata.normalize("NFC", "Café guide.pdf")


def test_a_refused_name_with_markup_is_shown_inert_on_the_seller_form(seller, helpers):
    client = seller()
    body = multipart(csrf(client, helpers), [("files", b"<img src=x onerror=alert(1)>.pdf", PDF)])
    r = post_raw(client, body, json_=False)  # the form without JavaScript: the page again, with the message
    assert r.status_code == 422 and "Product files: the file name" in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in r.text and "<img src=x" not in r.text


def test_file_names_in_the_library_are_shown_inert(make_client, shop, helpers):
    # a name the schema would refuse, put into catalog.json directly: the page still escapes it
    shop.add_product("odd-names", [("Tom & Jerry <b>bold</b>.pdf", helpers.PDF + b"odd")])
    client = make_client()
    uid = helpers.make_user(client, "bea@example.com")
    helpers.buy(client.app.state.edge, uid, "odd-names")
    page = client.get("/library").text
    assert "Tom &amp; Jerry &lt;b&gt;bold&lt;/b&gt;.pdf" in page and "<b>bold</b>" not in page


# --- 5. pixel bombs ----------------------------------------------------------------------------

def test_a_9400_by_9400_png_is_refused_from_its_header_without_decoding(seller, helpers, monkeypatch):
    client = seller()
    bomb = png((9400, 9400), 0, mode="1")  # 88 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    loaded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda im: loaded.append(im.size) or real_load(im))
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"bomb.png", bomb)]))
    assert r.status_code == 422 and r.json()["code"] == "upload_refused"
    assert "9400 × 9400 pixels; at most 25 megapixels" in r.json()["fields"]["cover"]
    assert (9400, 9400) not in loaded  # refused before a pixel was decoded
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_the_pixel_limit_is_a_setting_and_the_form_says_it(seller, helpers):
    client = seller(UPLOAD_MAX_IMAGE_PIXELS=64)
    token = csrf(client, helpers)
    assert post_raw(client, multipart(token, [("files", b"a.pdf", PDF), ("cover", b"c.png", png((8, 8)))])).status_code == 201
    r = post_raw(client, multipart(token, [("files", b"a.pdf", PDF), ("cover", b"c.png", png((9, 8)))]))
    assert r.status_code == 422 and "9 × 8 pixels; at most 64 pixels are accepted" in r.json()["message"]
    assert "up to 10 MB and 64 pixels" in client.get("/seller/products").text


def test_images_are_decoded_one_at_a_time(seller, tmp_path, monkeypatch):
    edge = seller().app.state.edge
    inside, most = [0], [0]
    real_load = Image.Image.load

    def load(im):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.02)  # widen the window two decodes would overlap in
        try:
            return real_load(im)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(Image.Image, "load", load)
    parts = []
    for i in range(4):
        path = tmp_path / f"{i}.png"
        path.write_bytes(png((200, 200), (i, i, i)))
        parts.append(Part("images", f"{i}.png", path, size=path.stat().st_size, kind="image"))
    results: list = []
    threads = [threading.Thread(target=lambda p=p: results.append(check_part(edge, p, None))) for p in parts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [None] * 4 and most[0] == 1


# --- 6. scanned by default, fail closed in production ------------------------------------------

def eicar_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", EICAR)
    return buf.getvalue()


def test_uploads_are_scanned_by_the_clamd_on_the_default_socket(seller, helpers, clamd_socket):
    client = seller(CLAMD_DEFAULT_SOCKET=clamd_socket)  # CLAMD_SOCKET and CLAMD_HOST stay empty
    token = csrf(client, helpers)
    r = post_raw(client, multipart(token, [("files", b"bundle.zip", eicar_zip()), ("cover", b"c.png", png())]))
    assert r.status_code == 422 and "virus found" in r.json()["message"]
    r = post_raw(client, multipart(token, [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 201
    scan = json.loads(client.app.state.edge.db.execute("SELECT scan FROM submissions").fetchone()[0])
    assert scan == {"a.pdf": "clean", "c.png": "clean"}
    ready = client.get("/readyz").json()["checks"]["clamd"]
    assert ready == {"ok": True, "configured": True}


def test_a_silent_default_socket_means_no_scanner_in_development(seller, helpers, tmp_path):
    stale = tmp_path / "clamd.ctl"
    import socket
    with socket.socket(socket.AF_UNIX) as s:  # a socket file nobody listens on, as a stopped clamd leaves
        s.bind(str(stale))
    client = seller(CLAMD_DEFAULT_SOCKET=str(stale))
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 201
    scan = json.loads(client.app.state.edge.db.execute("SELECT scan FROM submissions").fetchone()[0])
    assert scan["a.pdf"] == "type checked (virus scan not configured)"


def test_production_refuses_uploads_without_a_scanner_and_alerts(seller, helpers, tmp_path):
    client = seller(**PRODUCTION, CLAMD_DEFAULT_SOCKET=str(tmp_path / "none.ctl"))
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 503 and r.json()["code"] == "scanner_unavailable"
    assert r.headers["connection"] == "close"  # refused before the body was read
    edge = client.app.state.edge
    alert = edge.db.execute("SELECT * FROM alerts WHERE kind = 'upload_scanner'").fetchone()
    assert alert is not None and "no clamd answers" in alert["message"]
    mailed = edge.db.execute("SELECT to_addr FROM outbox WHERE template = 'alert'").fetchall()
    assert [m["to_addr"] for m in mailed] == ["admin@example.com"]
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_production_scans_with_the_default_socket(seller, helpers, clamd_socket):
    client = seller(**PRODUCTION, CLAMD_DEFAULT_SOCKET=clamd_socket)
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 201


def test_clamd_failing_mid_scan_refuses_and_alerts(seller, helpers, tmp_path):
    client = seller(CLAMD_SOCKET=str(tmp_path / "gone.sock"))  # configured, not running
    r = post_raw(client, multipart(csrf(client, helpers), [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]))
    assert r.status_code == 503 and r.json()["code"] == "scanner_unavailable"
    alert = client.app.state.edge.db.execute("SELECT message FROM alerts WHERE kind = 'upload_scanner'").fetchone()
    assert "clamd failed during a scan" in alert["message"]
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_clamd_for_prefers_configured_settings_and_can_be_turned_off(make_settings, clamd_socket):
    from checkout.wiring import build_edge

    def found(**settings):
        return uploads.clamd_for(build_edge(make_settings(**settings)))
    assert found(CLAMD_SOCKET="/configured.sock", CLAMD_DEFAULT_SOCKET=clamd_socket).socket_path == "/configured.sock"
    assert found(CLAMD_HOST="scanner.internal", CLAMD_DEFAULT_SOCKET=clamd_socket).host == "scanner.internal"
    assert found(CLAMD_DEFAULT_SOCKET=clamd_socket).socket_path == clamd_socket
    assert found(CLAMD_DEFAULT_SOCKET="") is None
    assert Path(clamd_socket).exists()


# --- properties over the new entry points ------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from checkout.core.errors import ValidationFailed  # noqa: E402
from digitaldock.schema import check_file_name  # noqa: E402


@given(field_name=st.sampled_from(["files", "cover", "images"]), raw=st.binary(max_size=80))
def test_upload_name_accepts_only_what_validate_accepts(field_name, raw):
    try:
        name = uploads.upload_name(field_name, raw)
    except ValidationFailed as exc:
        assert list(exc.fields) == [field_name] and exc.fields[field_name].startswith(uploads.LABELS[field_name])
        return
    assert check_file_name(name) == name == unicodedata.normalize("NFC", name)


@given(name=st.text(alphabet=st.characters(blacklist_characters='"\\\r\n', blacklist_categories=("Cs",)), max_size=40))
def test_disposition_keeps_a_file_name_exactly_as_sent(name):
    from checkout.web.uploads import disposition

    raw = name.encode()
    assert disposition(b'form-data; name="cover"; filename="' + raw + b'"') == ("cover", raw)
    assert disposition(b'form-data; name="cover"') == ("cover", None)


def test_any_file_name_is_accepted_cleanly_or_refused_with_422(seller, helpers):
    client = seller()
    token = csrf(client, helpers)

    @given(raw=st.binary(min_size=1, max_size=40).filter(lambda b: not set(b) & set(b'"\r\n')))
    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(raw):
        r = post_raw(client, multipart(token, [("files", raw, PDF), ("cover", b"c.png", png())],
                                       {"slug": "named-" + raw.hex()[:20]}))
        assert r.status_code in (201, 422), r.text
        if r.status_code == 422:
            assert r.json()["fields"]["files"].startswith("Product files: the file name")
        else:
            row = client.app.state.edge.db.execute("SELECT files FROM submissions ORDER BY id DESC").fetchone()
            stored = json.loads(row[0])[0]["name"]
            assert check_file_name(stored) == stored
        assert state(client)["spool"] == []
    run()


def test_the_alert_check_fires_in_production_without_a_scanner_and_clears_with_one(make_settings, clamd_socket,
                                                                                   tmp_path):
    from checkout.ops import alerts
    from checkout.wiring import build_edge

    edge = build_edge(make_settings(**PRODUCTION, CLAMD_DEFAULT_SOCKET=str(tmp_path / "none.ctl")))
    edge.migrate()
    assert "no clamd answers" in alerts.run_checks(edge)["upload_scanner"]
    assert "upload_scanner" in [a["kind"] for a in alerts.active(edge)]
    edge.settings = make_settings(**PRODUCTION, CLAMD_DEFAULT_SOCKET=clamd_socket)
    assert "upload_scanner" not in alerts.run_checks(edge)
    assert "upload_scanner" not in [a["kind"] for a in alerts.active(edge)]
    edge = build_edge(make_settings(CLAMD_DEFAULT_SOCKET=""))  # development: uploads go on unscanned
    assert uploads.check_scanner(edge) is None
