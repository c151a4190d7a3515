"""Downloads from S3/R2 (a real moto server): a 302 to a presigned URL naming the file; new
versions reach owners by email; the daily delivery check names what is broken."""

from __future__ import annotations

import io

import httpx

from checkout.cli.main import main
from checkout.core import retention
from checkout.core.errors import ServiceUnavailable
from checkout.delivery import library, storage
from digitaldock.storage import ReadThroughStorage, S3Storage


def test_s3_download_redirects_to_a_presigned_attachment(make_client, shop, helpers, moto_url, s3_bucket):
    client = make_client(STORAGE_BACKEND="s3", S3_BUCKET=s3_bucket, S3_ENDPOINT_URL=moto_url, PRESIGN_SECONDS=120)
    edge = client.app.state.edge
    store = storage.storage(edge)
    assert isinstance(store, S3Storage)
    f = shop.products["budget-planner"]["files"][0]
    store.put(f["key"], io.BytesIO(helpers.PDF))
    uid = helpers.make_user(client, "ann@example.com")
    pid = helpers.buy(edge, uid, "budget-planner")
    r = client.get(helpers.link_for(client, pid, f["sha256"]))
    assert r.status_code == 302
    url = r.headers["location"]
    assert url.startswith(moto_url) and "Expires" in url
    got = httpx.get(url)
    assert got.status_code == 200 and got.content == helpers.PDF
    assert 'filename="planner.pdf"' in got.headers["content-disposition"]
    assert got.headers["content-disposition"].startswith("attachment;")
    assert library.check(edge) == []


def test_local_storage_reads_through_to_the_content_folder(make_client, shop):
    client = make_client()
    store = storage.storage(client.app.state.edge)
    assert isinstance(store, ReadThroughStorage)
    f = shop.products["budget-planner"]["files"][0]
    assert store.stat(f["key"]) == f["size"] and store.local_path(f["key"]).is_file()
    store.put("sha256/00/new", io.BytesIO(b"abc"))
    assert store.stat("sha256/00/new") == 3 and "sha256/00/new" in list(store.list("sha256/"))
    assert store.presigned_url(f["key"], "x.pdf", 60) is None
    store.move("sha256/00/new", "quarantine/new")
    store.delete("quarantine/new")
    assert store.stat("quarantine/new") is None and "then" in store.describe()
    with store.open(f["key"]) as fh:
        assert fh.read(4) == b"%PDF"


def test_unknown_storage_backend_is_unavailable(make_client):
    client = make_client(STORAGE_BACKEND="floppy")
    r = client.get("/download/x")
    assert r.status_code in (303, 400)
    import pytest
    with pytest.raises(ServiceUnavailable):
        storage.storage(client.app.state.edge)


def test_owners_are_emailed_once_about_a_new_version(make_client, shop, helpers):
    client = make_client()
    edge = client.app.state.edge
    ann = helpers.make_user(client, "ann@example.com")
    bob = helpers.make_user(client, "bob@example.com", name="Bob")
    helpers.buy(edge, ann, "budget-planner")
    refunded = helpers.buy(edge, bob, "budget-planner", status="refunded")
    assert refunded
    assert library.notify_new_versions(edge) == 0  # first sighting only records
    shop.add_product("budget-planner", [("planner-v2.pdf", helpers.PDF + b"v2")], version="2.0")
    assert library.notify_new_versions(edge) == 1
    assert library.notify_new_versions(edge) == 0
    rows = edge.db.execute("SELECT to_addr, text_body FROM outbox WHERE template = 'new_version'").fetchall()
    assert [r["to_addr"] for r in rows] == ["ann@example.com"]
    assert "version 2.0" in rows[0]["text_body"] and "/library" in rows[0]["text_body"]
    helpers.sign_in(client, "ann@example.com")
    page = client.get("/library")
    assert "planner-v2.pdf" in page.text and "version 2.0" in page.text


def test_daily_check_names_missing_files_and_orders_without_downloads(make_client, shop, helpers):
    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    helpers.buy(edge, uid, "budget-planner")
    helpers.buy(edge, uid, "gone-product")
    assert len(library.check(edge)) == 2  # gone-product: not in catalogue, no working download
    f = shop.products["budget-planner"]["files"][0]
    (shop.content / "storage" / f["key"]).unlink()
    problems = library.check(edge)
    assert any("planner.pdf is missing from storage" in p for p in problems)
    assert sum("no working download" in p for p in problems) == 2


def test_seller_counts(make_client, shop, helpers):
    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    pid = helpers.buy(edge, uid, "budget-planner")
    client.get(helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"]))
    assert library.seller_counts(edge, "ada") == {"budget-planner": 1}


def test_delivery_check_command(make_client, shop, helpers, tmp_path, monkeypatch):
    from click.testing import CliRunner


    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    helpers.buy(edge, uid, "budget-planner")
    env = {"DIGITALDOCK_DATA_DIR": str(tmp_path / "data"), "CATALOG_PATH": str(shop.catalog_path),
           "CONTENT_DIR": str(shop.content)}
    monkeypatch.chdir(tmp_path)
    ok = CliRunner().invoke(main, ["delivery", "check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "every paid order has a working download" in ok.output
    (shop.content / "storage" / shop.products["budget-planner"]["files"][0]["key"]).unlink()
    bad = CliRunner().invoke(main, ["delivery", "check"], env=env)
    assert bad.exit_code == 1 and "missing from storage" in bad.output


def test_s3_put_streams_large_files_in_parts(moto_url, s3_bucket):
    import hashlib

    store = S3Storage(s3_bucket, moto_url)
    data = bytes(range(256)) * (17 * 4096)  # 17 MB: three parts
    assert store.put("sha256/aa/big", io.BytesIO(data)) == len(data)
    assert store.stat("sha256/aa/big") == len(data)
    assert store.sha256("sha256/aa/big") == hashlib.sha256(data).hexdigest()

    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() >= 8 * 1024 * 1024:
                raise OSError("disk went away")
            return super().read(n)

    import pytest
    with pytest.raises(OSError):
        store.put("sha256/aa/broken", Broken(data))
    assert store.stat("sha256/aa/broken") is None
    assert store.client.list_multipart_uploads(Bucket=s3_bucket).get("Uploads", []) == []


def test_retention_clears_download_addresses(make_client, shop, helpers, clock):

    client = make_client()
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    pid = helpers.buy(edge, uid, "budget-planner")
    client.get(helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"]))
    assert retention.run(edge)["download_addresses_cleared"] == 0
    clock.advance(31 * 86400)
    assert retention.run(edge)["download_addresses_cleared"] == 1
    row = edge.db.execute("SELECT ip, user_agent, outcome FROM downloads").fetchone()
    assert tuple(row) == (None, None, "started")
    assert library.used(edge, pid, shop.products["budget-planner"]["files"][0]["sha256"]) == 1


def test_fast_presigning_matches_botocore_byte_for_byte(moto_url, s3_bucket):
    from digitaldock.storage import content_disposition
    store = S3Storage(s3_bucket, moto_url, "pre", env={"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "S/K+",
                                                         "AWS_SESSION_TOKEN": "T/+="})
    url = store.presigned_url("sha256/ab/é f+~.zip", 'naïve "q";.zip', 300)
    assert store._fast_presign is True and url.startswith(moto_url)
    expires = int(url.rsplit("&Expires=", 1)[1])
    disposition = content_disposition('naïve "q";.zip')
    assert store._presign_v2(store._key("sha256/ab/é f+~.zip"), disposition, expires) == url
    # botocore's own URL for the same key (its Expires may be a second later)
    botocore_url = store._botocore_presign(store._key("sha256/ab/é f+~.zip"), disposition, 300)
    again = int(botocore_url.rsplit("&Expires=", 1)[1])
    assert store._presign_v2(store._key("sha256/ab/é f+~.zip"), disposition, again) == botocore_url


def test_sigv4_endpoints_keep_botocore_presigning():
    store = S3Storage("bk", "https://acc.r2.cloudflarestorage.com", env={
        "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "auto"})
    url = store.presigned_url("sha256/ab/x.zip", "x.zip", 300)
    assert store._fast_presign is False and "X-Amz-Signature=" in url


def test_a_storage_given_its_client_presigns_through_botocore(moto_url, s3_bucket):
    """Its credentials are the client's business: no fast signer, botocore's URL, still valid."""
    from digitaldock.storage import s3_client

    store = S3Storage(s3_bucket, moto_url, "pre", client=s3_client(moto_url))
    store.put("sha256/ab/x.zip", io.BytesIO(b"zip bytes"))
    url = store.presigned_url("sha256/ab/x.zip", "x.zip", 300)
    assert store._fast_presign is False and url.startswith(moto_url)
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"zip bytes"
    assert r.headers["content-disposition"].startswith('attachment; filename="x.zip"')
