"""Seller uploads: streamed to storage, type-checked, scanned by a real clamd, quarantined when
refused; every bad input of the issue gets a clear refusal and changes nothing."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from .uploading import FIELDS, PDF, csrf, png

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
def jpeg_with_exif() -> bytes:
    im = Image.new("RGB", (8, 8), (10, 200, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def post(client, helpers, files, fields=None, json_=False, token=None):
    data = {"csrf_token": token or csrf(client, helpers), **FIELDS, **(fields or {})}
    headers = {"Accept": "application/json"} if json_ else {}
    return client.post("/seller/products", data=data, files=files, headers=headers)


def good_files():
    return [("files", ("harbour-sans.pdf", PDF, "application/pdf")), ("cover", ("cover.png", png(), "image/png")),
            ("images", ("shot-1.jpg", jpeg_with_exif(), "image/jpeg")), ("images", ("shot-2.png", png(color=(1, 2, 3)), "image/png"))]


def state(client):
    edge = client.app.state.edge
    data_storage = Path(edge.settings.data_dir) / "storage"
    stored = sorted(p.relative_to(data_storage).as_posix() for p in data_storage.rglob("*") if p.is_file()) if data_storage.exists() else []
    spool = Path(edge.settings.data_dir) / "uploads"
    return {"submissions": edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
            "stored": [k for k in stored if not k.startswith("quarantine/")],
            "spool": list(spool.iterdir()) if spool.exists() else []}


def test_upload_streams_files_into_storage_and_queues_the_submission(seller, helpers):
    client = seller()
    r = post(client, helpers, good_files())
    assert r.status_code == 303 and r.headers["location"] == "/seller"
    edge = client.app.state.edge
    sub = edge.db.execute("SELECT * FROM submissions").fetchone()
    assert sub["status"] == "pending" and sub["product_slug"] == "harbour-sans"
    files, images = json.loads(sub["files"]), json.loads(sub["images"])
    assert files[0]["sha256"] == hashlib.sha256(PDF).hexdigest() and files[0]["size"] == len(PDF)
    store_root = Path(edge.settings.data_dir) / "storage"
    assert (store_root / files[0]["key"]).read_bytes() == PDF
    assert [i["role"] for i in images] == ["cover", "gallery", "gallery"]
    jpeg = (store_root / images[1]["key"]).read_bytes()
    assert b"SecretCam" not in jpeg and Image.open(io.BytesIO(jpeg)).getexif().get(0x010F) is None
    assert state(client)["spool"] == []
    page = client.get(r.headers["location"])
    assert "Harbour Sans" in page.text and "pending" in page.text and "Your product was received" in page.text


def test_upload_answers_json_for_the_javascript_form(seller, helpers):
    client = seller()
    r = post(client, helpers, good_files(), json_=True)
    assert r.status_code == 201 and r.json()["status"] == "pending" and r.json()["redirect"].startswith("/seller")


def test_draft_then_edit_keeps_files(seller, helpers):
    client = seller()
    assert post(client, helpers, good_files(), {"action": "draft"}).status_code == 303
    assert "draft" in client.get("/seller").text
    form = client.get("/seller/products?slug=harbour-sans")
    assert 'value="Harbour Sans"' in form.text
    r = post(client, helpers, [("files", ("", b"", "application/octet-stream"))], {"version": "1.1"})
    assert r.status_code == 303
    edge = client.app.state.edge
    rows = edge.db.execute("SELECT status, fields, files FROM submissions").fetchall()
    assert len(rows) == 1 and rows[0]["status"] == "pending"
    assert json.loads(rows[0]["fields"])["version"] == "1.1" and json.loads(rows[0]["files"])[0]["name"] == "harbour-sans.pdf"


@pytest.mark.parametrize("name, data, why", [
    ("guide.pdf", b"MZ\x90\x00" + b"\0" * 200, "Windows executable"),
    ("empty.pdf", b"", "empty"),
])
def test_wrong_type_or_empty_file_is_refused_and_quarantined(seller, helpers, name, data, why):
    client = seller()
    files = [("files", (name, data, "application/pdf")), ("cover", ("cover.png", png(), "image/png"))]
    r = post(client, helpers, files, json_=True)
    assert r.status_code == 422 and r.json()["code"] == "upload_refused"
    assert why in r.json()["message"] and name in r.json()["message"]
    s = state(client)
    assert s["submissions"] == 0 and s["stored"] == [] and s["spool"] == []
    edge = client.app.state.edge
    q = edge.db.execute("SELECT * FROM quarantined_uploads").fetchone()
    assert q["file_name"] == name and q["storage_key"].startswith("quarantine/uploads/")
    alert = edge.db.execute("SELECT * FROM outbox WHERE template = 'upload_refused'").fetchone()
    assert alert["to_addr"] == "admin@example.com" and name in alert["text_body"]


def test_eicar_in_a_zip_is_refused_by_clamd(seller, helpers, clamd_socket):
    client = seller(CLAMD_SOCKET=clamd_socket)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", EICAR)
    files = [("files", ("bundle.zip", buf.getvalue(), "application/zip")), ("cover", ("cover.png", png(), "image/png"))]
    r = post(client, helpers, files)
    assert r.status_code == 422 and "bundle.zip" in r.text and "virus found" in r.text
    assert 'name="title"' in r.text  # the form again, with the seller's input
    assert state(client)["submissions"] == 0 and state(client)["stored"] == []
    # a clean upload through the same clamd is accepted and its scan result recorded
    assert post(client, helpers, good_files()).status_code == 303
    sub = client.app.state.edge.db.execute("SELECT scan FROM submissions").fetchone()
    assert json.loads(sub["scan"])["harbour-sans.pdf"] == "clean"


def test_eleven_gallery_images_are_refused(seller, helpers):
    client = seller()
    files = [("files", ("a.pdf", PDF, "application/pdf")), ("cover", ("cover.png", png(), "image/png"))]
    files += [("images", (f"i{i}.png", png(color=(i, i, i)), "image/png")) for i in range(11)]
    r = post(client, helpers, files, json_=True)
    assert r.status_code == 422 and "Gallery images: at most 10 images" in r.json()["message"]
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_image_over_ten_megabytes_is_cut_off_with_413(seller, helpers):
    client = seller()
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 1 - 8)
    files = [("files", ("a.pdf", PDF, "application/pdf")), ("cover", ("cover.png", big, "image/png"))]
    r = post(client, helpers, files, json_=True)
    assert r.status_code == 413 and "cover.png" in r.json()["message"]
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_product_file_over_the_limit_is_cut_off_with_413(seller, helpers):
    client = seller(UPLOAD_MAX_FILE_BYTES=1024)
    files = [("files", ("a.pdf", PDF + b"\0" * 1024, "application/pdf")), ("cover", ("cover.png", png(), "image/png"))]
    r = post(client, helpers, files)
    assert r.status_code == 413 and "a.pdf" in r.text
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def raw(client, helpers, filename: bytes):
    token = csrf(client, helpers)
    b = b"xxBOUNDARYxx"
    parts = [b"--" + b + b'\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"]
    for k, v in FIELDS.items():
        parts.append(b"--" + b + f'\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode() + b"\r\n")
    parts.append(b"--" + b + b'\r\nContent-Disposition: form-data; name="files"; filename="' + filename
                 + b'"\r\nContent-Type: application/pdf\r\n\r\n' + PDF + b"\r\n")
    body = b"".join(parts) + b"--" + b + b"--\r\n"
    return client.post("/seller/products", content=body, headers={
        "Content-Type": "multipart/form-data; boundary=xxBOUNDARYxx", "Accept": "application/json"})


@pytest.mark.parametrize("filename", [b"../../etc/passwd.pdf", b"..\\\\evil.pdf", b"bell\x07name.pdf", b".hidden.pdf"])
def test_dangerous_file_names_are_refused(seller, helpers, filename):
    client = seller()
    r = raw(client, helpers, filename)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_unauthenticated_and_non_seller_uploads_are_refused(make_client, helpers, shop):
    client = make_client()
    r = client.post("/seller/products", files={"files": ("a.pdf", PDF)}, headers={"Accept": "application/json"})
    assert r.status_code == 401
    helpers.make_user(client, "bob@example.com", role="buyer", name="Bob")
    token = helpers.csrf_from(client.get("/account").text)
    r = client.post("/seller/products", data={"csrf_token": token, **FIELDS}, files={"files": ("a.pdf", PDF)},
                    headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "not_a_seller"
    assert client.get("/seller").status_code == 403
    assert client.app.state.edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0


def test_upload_without_csrf_token_is_refused(seller, helpers):
    client = seller()
    r = client.post("/seller/products", data=FIELDS, files=good_files(), headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    r = client.post("/seller/products", data=FIELDS, files=good_files(),
                    headers={"Accept": "application/json", "X-CSRF-Token": csrf(client, helpers)})
    assert r.status_code == 201
    assert state(client)["spool"] == []


def test_form_errors_are_named_and_nothing_is_stored(seller, helpers):
    client = seller()
    r = post(client, helpers, good_files(), {"title": "", "price": "12.505", "slug": "Bad Slug"})
    assert r.status_code == 422 and "Title is required." in r.text and "lowercase letters" in r.text
    r = post(client, helpers, good_files(), {"price": "12.505"}, json_=True)
    assert r.status_code == 422 and "price" in r.json()["fields"]
    r = post(client, helpers, [("files", ("a.pdf", PDF, "application/pdf"))], json_=True)
    assert r.status_code == 422 and "cover" in r.json()["fields"]
    assert client.post("/seller/products", content=b"x", headers={"Content-Type": "text/plain",
                       "Accept": "application/json", "X-CSRF-Token": csrf(client, helpers)}).status_code == 400
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_markdown_preview_is_sanitised(seller, helpers):
    client = seller()
    r = client.post("/seller/preview", data={"description": "**bold** <script>alert(1)</script>"},
                    headers={"X-CSRF-Token": csrf(client, helpers)})
    assert r.status_code == 200 and "<strong>bold</strong>" in r.json()["html"] and "<script" not in r.json()["html"]
