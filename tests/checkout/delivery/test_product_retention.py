"""Files of deleted products leave storage 90 days after the product left the catalogue, except
files a buyer still has download rights to (the Privacy Policy's retention table), files another
product lists and files of a seller's pending submission. A clock we move, real storage."""

from __future__ import annotations

import io
import json

from checkout.accounts import gdpr
from checkout.core import audit
from checkout.core import retention as retention_job
from checkout.delivery import library, retention, storage
from checkout.wiring import build_edge
from digitaldock.storage import S3Storage

DAY = 86400


def _edge(make_client, **settings):
    client = make_client(**settings)
    edge = client.app.state.edge
    edge.catalog.current()  # the edge loads the catalogue (and records it) on its first request
    return client, edge


def _remove(edge, shop, slug: str) -> None:
    shop.products.pop(slug)
    shop.write()
    edge.catalog.current()  # the reload notices the product is gone


def _exists(shop, entry) -> bool:
    return (shop.content / "storage" / entry["key"]).is_file()


def _last_run(edge) -> dict:
    return next(r for r in audit.recent(edge, 500) if r["action"] == "retention.run")["detail"]


def test_files_of_a_deleted_product_go_after_90_days_not_before(make_client, shop, clock):
    _, edge = _edge(make_client)
    planner = shop.products["budget-planner"]["files"][0]
    fonts = shop.products["font-pack"]["files"]
    _remove(edge, shop, "font-pack")
    row = edge.db.execute("SELECT * FROM catalog_products WHERE product_slug = 'font-pack'").fetchone()
    assert row["removed_at"] and row["title"] == "Font Pack"

    clock.advance(89 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 0
    assert all(_exists(shop, f) for f in fonts)

    clock.advance(2 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 2
    assert not any(_exists(shop, f) for f in fonts)
    assert _exists(shop, planner)  # the listed product keeps its file
    assert _last_run(edge)["product_files_deleted"] == 2  # the run's audit entry has the counts
    # a second run has nothing left to do
    assert retention_job.run(edge)["product_files_deleted"] == 0


def test_a_buyer_with_download_rights_keeps_the_file_until_refunded(make_client, shop, helpers, clock):
    client, edge = _edge(make_client)
    uid = helpers.make_user(client, "ann@example.com")
    pid = helpers.buy(edge, uid, "font-pack")
    fonts = shop.products["font-pack"]["files"]
    _remove(edge, shop, "font-pack")
    clock.advance(120 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 0 and report["product_files_kept_for_buyers"] == 2
    assert all(_exists(shop, f) for f in fonts)

    # the buyer still sees and downloads the withdrawn product
    helpers.sign_in(client, "ann@example.com")
    page = client.get("/library")
    assert "Font Pack" in page.text and "fonts.zip" in page.text
    r = client.get(helpers.link_for(client, pid, fonts[0]["sha256"]))
    assert r.status_code == 200 and r.content == shop.data[fonts[0]["sha256"]]

    edge.db.execute("UPDATE purchases SET status = 'refunded' WHERE id = ?", (pid,))
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 2 and report["product_files_kept_for_buyers"] == 0
    assert not any(_exists(shop, f) for f in fonts)
    assert retention.withdrawn_product(edge, "font-pack").files == ()


def test_a_buyer_who_deleted_their_account_no_longer_holds_the_file(make_client, shop, helpers, clock):
    client, edge = _edge(make_client)
    uid = helpers.make_user(client, "ann@example.com")
    helpers.buy(edge, uid, "budget-planner")
    planner = shop.products["budget-planner"]["files"][0]
    _remove(edge, shop, "budget-planner")
    clock.advance(91 * DAY)
    assert retention_job.run(edge)["product_files_kept_for_buyers"] == 1
    user = edge.db.execute("SELECT * FROM users WHERE id = ?", (uid,)).fetchone()
    gdpr.request_deletion(edge, user, "203.0.113.9")
    clock.advance(29 * DAY)  # deletion requested, not yet done: the right still holds
    assert retention_job.run(edge)["product_files_kept_for_buyers"] == 1
    clock.advance(2 * DAY)  # the account is anonymised in this run, before the files are looked at
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 1 and not _exists(shop, planner)


def test_a_file_another_product_lists_stays(make_client, shop, helpers, clock):
    _, edge = _edge(make_client)
    shared = shop.add_product("planner-bundle", [("planner.pdf", helpers.PDF)])["files"][0]
    edge.catalog.current()
    _remove(edge, shop, "budget-planner")
    clock.advance(91 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 0 and report["product_files_kept_in_use"] == 1
    assert _exists(shop, shared)


def test_a_product_listed_again_starts_over(make_client, shop, clock):
    _, edge = _edge(make_client)
    prod = shop.products["font-pack"]
    _remove(edge, shop, "font-pack")
    clock.advance(60 * DAY)
    shop.products["font-pack"] = prod
    shop.write()
    edge.catalog.current()
    clock.advance(60 * DAY)
    assert retention_job.run(edge)["product_files_deleted"] == 0
    assert all(_exists(shop, f) for f in prod["files"])


def test_an_unreadable_or_empty_catalogue_deletes_nothing(make_client, shop, catalog_path, clock):
    _, edge = _edge(make_client)
    catalog_path.write_text("{ half written")
    edge.catalog.current()
    data = json.loads(json.dumps({"products": {}, "legal": {}}))
    catalog_path.write_text(json.dumps(data))
    edge.catalog.current()
    clock.advance(200 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_deleted"] == 0
    assert edge.db.execute("SELECT COUNT(*) FROM catalog_products WHERE removed_at IS NOT NULL").fetchone()[0] == 0
    assert all(_exists(shop, f) for p in shop.products.values() for f in p["files"])


def test_a_pending_submission_keeps_its_file(make_client, shop, helpers, clock):
    client, edge = _edge(make_client)
    uid = helpers.make_user(client, "ada@example.com", role="seller", name="Ada")
    planner = shop.products["budget-planner"]["files"][0]
    now = edge.clock.iso()
    edge.db.execute("INSERT INTO submissions (user_id, product_slug, status, files, created_at, updated_at)"
                    " VALUES (?,?,?,?,?,?)", (uid, "budget-planner-2", "pending", json.dumps([planner]), now, now))
    _remove(edge, shop, "budget-planner")
    clock.advance(91 * DAY)
    assert retention_job.run(edge)["product_files_kept_in_use"] == 1
    assert _exists(shop, planner)


def test_files_in_s3_are_deleted_from_the_bucket(make_client, shop, moto_url, s3_bucket, clock):
    _, edge = _edge(make_client, STORAGE_BACKEND="s3", S3_BUCKET=s3_bucket, S3_ENDPOINT_URL=moto_url)
    store = storage.storage(edge)
    assert isinstance(store, S3Storage)
    for p in shop.products.values():
        for f in p["files"]:
            store.put(f["key"], io.BytesIO(shop.data[f["sha256"]]))
    _remove(edge, shop, "font-pack")
    clock.advance(91 * DAY)
    assert retention_job.run(edge)["product_files_deleted"] == 2
    assert all(store.stat(f["key"]) is None for f in shop.products.get("font-pack", {}).get("files", []))
    listed = set(store.list())
    assert listed == {shop.products["budget-planner"]["files"][0]["key"]}


def test_a_storage_failure_is_counted_and_retried_next_run(make_client, shop, clock, monkeypatch):
    _, edge = _edge(make_client, STORAGE_BACKEND="s3", S3_BUCKET="")  # no bucket: storage unavailable
    _remove(edge, shop, "font-pack")
    clock.advance(91 * DAY)
    report = retention_job.run(edge)
    assert report["product_files_failed"] == 2 and report["product_files_deleted"] == 0
    assert edge.db.execute("SELECT COUNT(*) FROM catalog_files WHERE purged_at IS NOT NULL").fetchone()[0] == 0


def test_unknown_products_and_an_unmigrated_database_are_left_alone(make_client, make_settings, shop, clock,
                                                                   monkeypatch):
    import sqlite3


    _, edge = _edge(make_client)
    assert retention.withdrawn_product(edge, "never-listed") is None
    bare = build_edge(make_settings(DATABASE_PATH=str(shop.base / "bare.sqlite3")), clock)  # no migrations yet
    assert retention.record(bare) == {}
    assert retention.withdrawn_product(bare, "font-pack") is None
    assert retention.purge_removed_files(bare, clock())["product_files_deleted"] == 0
    bare.close()

    def busy(*_a, **_k):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(retention, "record", busy)
    retention.on_catalog_load(edge, edge.catalog.current())  # logged, not raised


def test_the_daily_check_counts_a_withdrawn_product_with_kept_files_as_working(make_client, shop, helpers):
    client, edge = _edge(make_client)
    uid = helpers.make_user(client, "ann@example.com")
    helpers.buy(edge, uid, "budget-planner")
    _remove(edge, shop, "budget-planner")
    assert library.check(edge) == []
    helpers.buy(edge, uid, "never-listed")
    assert any("never-listed" in p and "not in the catalogue" in p for p in library.check(edge))
