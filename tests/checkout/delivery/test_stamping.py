"""Stamped PDFs (issue #18): every page of the buyer's copy carries their email and order number,
the metadata says the same, the original in storage is untouched, the copy is made once and
served through the same counted links, and a file that is not a PDF is delivered as it is with
a note to the seller."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import httpx
import pikepdf
import pytest
from fpdf import FPDF
from pypdf import PdfReader

from checkout.delivery import stamping, storage
from checkout.payments import payouts


def book(pages: int) -> bytes:
    doc = FPDF()
    for n in range(pages):
        doc.add_page()
        doc.set_font("Helvetica", size=14)
        doc.cell(0, 10, f"Chapter {n + 1}")
    return bytes(doc.output())


BOOK = book(12)
NOT_A_PDF = b"PK\x03\x04 this is a zip pretending to be a PDF"


@pytest.fixture
def stamped_shop(shop):
    shop.add_product("field-guide", [("guide.pdf", BOOK), ("broken.pdf", NOT_A_PDF)], write=False)
    shop.products["field-guide"]["stamp_pdfs"] = True
    shop.write()
    return shop


def test_each_page_carries_the_buyers_email_and_order_and_the_original_is_untouched(make_client, stamped_shop,
                                                                                     helpers):
    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "reader@example.com")
    pid = helpers.buy(edge, uid, "field-guide")
    ref = edge.db.execute("SELECT o.reference FROM purchases p JOIN orders o ON o.id = p.order_id WHERE p.id = ?",
                          (pid,)).fetchone()[0]
    f = stamped_shop.products["field-guide"]["files"][0]
    page = client.get("/library")
    assert "personalised for you" in page.text and f["sha256"][:16] in page.text
    r = client.get(helpers.link_for(client, pid, f["sha256"]))
    assert r.status_code == 200 and r.content != BOOK
    reader = PdfReader(io.BytesIO(r.content), strict=True)
    assert len(reader.pages) == 12
    for p in reader.pages:
        text = p.extract_text()
        assert "reader@example.com" in text and ref in text
    assert "Chapter 7" in reader.pages[6].extract_text()  # the page itself is still there
    assert reader.metadata["/DigitalDockBuyer"] == "reader@example.com" and reader.metadata["/DigitalDockOrder"] == ref
    with pikepdf.open(io.BytesIO(r.content)) as pdf:  # an independent reader (qpdf) finds nothing wrong
        assert pdf.check_pdf_syntax() == [] and len(pdf.pages) == 12
    assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
    # the original is untouched in storage, and the stamped copy is made once, then served again
    original = Path(stamped_shop.content / "storage" / f["key"]).read_bytes()
    assert hashlib.sha256(original).hexdigest() == f["sha256"]
    again = client.get(helpers.link_for(client, pid, f["sha256"]))
    assert again.content == r.content
    row = edge.db.execute("SELECT status, COUNT(*) FROM stamped_files").fetchone()
    assert tuple(row) == ("ready", 1)
    assert "3 of 5" in client.get("/library").text  # both downloads counted, as any other


def test_a_file_that_is_not_a_pdf_is_delivered_as_it_is_and_the_seller_told(make_client, stamped_shop, helpers):
    client = make_client()
    edge = client.app.state.edge
    seller = helpers.make_user(client, "ada@example.com", role="seller")
    payouts.link_seller(edge, seller, "ada")
    uid = helpers.make_user(client, "reader@example.com")
    pid = helpers.buy(edge, uid, "field-guide")
    f = stamped_shop.products["field-guide"]["files"][1]
    r = client.get(helpers.link_for(client, pid, f["sha256"]))
    assert r.status_code == 200 and r.content == NOT_A_PDF
    row = edge.db.execute("SELECT status, note FROM stamped_files").fetchone()
    assert row["status"] == "unstamped" and "%PDF-" in row["note"]
    notes = edge.db.execute("SELECT to_addr, text_body FROM outbox WHERE template = 'stamp_skipped'").fetchall()
    assert len(notes) == 1 and notes[0]["to_addr"] == "ada@example.com" and "broken.pdf" in notes[0]["text_body"]
    # a second buyer's download tells the seller nothing new
    other = helpers.make_user(client, "second@example.com")
    pid2 = helpers.buy(edge, other, "field-guide")
    assert client.get(helpers.link_for(client, pid2, f["sha256"])).content == NOT_A_PDF
    assert edge.db.execute("SELECT COUNT(*) FROM outbox WHERE template = 'stamp_skipped'").fetchone()[0] == 1


def test_a_copy_being_prepared_asks_to_come_back(make_client, stamped_shop, helpers):
    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "reader@example.com")
    pid = helpers.buy(edge, uid, "field-guide")
    f = stamped_shop.products["field-guide"]["files"][0]
    assert stamping.begin(edge, pid, f["sha256"]) == "go"  # another request is stamping it
    r = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(r.text), "purchase_id": str(pid),
                                           "sha256": f["sha256"]})
    assert r.status_code == 202 and "being prepared" in r.text
    r = client.post("/library/link", headers={"accept": "application/json",
                                              "x-csrf-token": helpers.csrf_from(client.get("/account").text)},
                    data={"purchase_id": str(pid), "sha256": f["sha256"]})
    assert r.status_code == 202 and r.json()["status"] == "preparing" and r.headers["retry-after"] == "30"


@pytest.mark.parametrize("data, why", [
    (b"%PDF-1.4\nnothing else", "could not be read"),
    (b"not a pdf", "%PDF-"),
])
def test_unreadable_pdfs_are_refused_with_a_reason(tmp_path, data, why):
    src, dst = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(data)
    with pytest.raises(stamping.NotStampable, match=why):
        stamping.stamp(src, dst, stamping.Stamp("a@example.com", "dd-1"))


def test_encrypted_pdfs_are_not_stamped(tmp_path):
    src = tmp_path / "in.pdf"
    with pikepdf.open(io.BytesIO(BOOK)) as pdf:
        pdf.save(src, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(stamping.NotStampable, match="encrypted"):
        stamping.stamp(src, tmp_path / "out.pdf", stamping.Stamp("a@example.com", "dd-1"))


def test_stamp_text_is_escaped_and_kept_in_the_font(tmp_path):
    src, dst = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(book(1))
    stamping.stamp(src, dst, stamping.Stamp("o'brien(\\x)@example.com", "dd-ü✓"))
    text = PdfReader(dst).pages[0].extract_text()
    assert "o'brien(\\x)@example.com" in text and "dd-ü?" in text


def test_on_s3_the_stamped_copy_is_stored_and_served_by_a_presigned_link(make_client, stamped_shop, helpers,
                                                                         moto_url, s3_bucket):
    client = make_client(STORAGE_BACKEND="s3", S3_BUCKET=s3_bucket, S3_ENDPOINT_URL=moto_url, PRESIGN_SECONDS=120)
    edge = client.app.state.edge
    store = storage.storage(edge)
    f = stamped_shop.products["field-guide"]["files"][0]
    store.put(f["key"], io.BytesIO(BOOK))
    uid = helpers.make_user(client, "reader@example.com")
    pid = helpers.buy(edge, uid, "field-guide")
    r = client.get(helpers.link_for(client, pid, f["sha256"]))
    assert r.status_code == 302
    got = httpx.get(r.headers["location"])
    assert got.status_code == 200 and 'filename="guide.pdf"' in got.headers["content-disposition"]
    reader = PdfReader(io.BytesIO(got.content))
    assert all("reader@example.com" in p.extract_text() for p in reader.pages)
    key = edge.db.execute("SELECT storage_key FROM stamped_files").fetchone()[0]
    assert key.startswith(f"stamped/{pid}/") and store.stat(key) == len(got.content)
    assert store.sha256(f["key"]) == f["sha256"]  # the original is untouched
