"""The library, download links and their refusals: forged, expired, replayed, another user's,
the 6th download of a file, the 11th in an hour, a refunded purchase."""

from __future__ import annotations

import hashlib


def start(make_client, shop, helpers, **settings):
    client = make_client(**settings)
    edge = client.app.state.edge
    uid = helpers.make_user(client, "ann@example.com")
    return client, edge, uid


def started(edge) -> int:
    return edge.db.execute("SELECT COUNT(*) FROM downloads WHERE outcome = 'started'").fetchone()[0]


def test_library_lists_owned_products_files_and_downloads_left(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    helpers.buy(edge, uid, "font-pack")
    page = client.get("/library")
    assert page.status_code == 200
    assert "Font Pack" in page.text and "fonts.zip" in page.text and "specimen.pdf" in page.text
    assert "version 1.0" in page.text and "5 of 5" in page.text
    assert "Budget Planner" not in page.text


def test_library_needs_sign_in(client):
    r = client.get("/library")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/library")


def test_download_streams_the_bytes_and_counts_once(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    f = shop.products["budget-planner"]["files"][0]
    link = helpers.link_for(client, pid, f["sha256"])
    r = client.get(link)
    assert r.status_code == 200
    assert r.content == helpers.PDF and hashlib.sha256(r.content).hexdigest() == f["sha256"]
    assert r.headers["content-length"] == str(len(helpers.PDF))
    assert r.headers["etag"] == f'"{f["sha256"]}"'
    assert 'attachment; filename="planner.pdf"' in r.headers["content-disposition"]
    assert r.headers["accept-ranges"] == "bytes"
    assert "4 of 5" in client.get("/library").text
    row = edge.db.execute("SELECT * FROM downloads").fetchone()
    assert (row["user_id"], row["purchase_id"], row["file_name"], row["outcome"]) == (uid, pid, "planner.pdf", "started")
    assert row["ip"] and row["user_agent"] and row["at"]


def test_range_resumes_the_same_link_without_counting_again(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    head = client.head(link)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(helpers.PDF))
    assert started(edge) == 0  # HEAD counts nothing
    first = client.get(link, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == helpers.PDF[:100]
    rest = client.get(link, headers={"Range": "bytes=100-"})
    assert rest.status_code == 206 and first.content + rest.content == helpers.PDF
    assert rest.headers["content-range"] == f"bytes 100-{len(helpers.PDF) - 1}/{len(helpers.PDF)}"
    assert started(edge) == 1
    bad = client.get(link, headers={"Range": f"bytes={len(helpers.PDF) + 10}-"})
    assert bad.status_code == 416


def test_replayed_link_is_refused_with_a_fresh_link_offer(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    sha = shop.products["budget-planner"]["files"][0]["sha256"]
    link = helpers.link_for(client, pid, sha)
    assert client.get(link).status_code == 200
    again = client.get(link)
    assert again.status_code == 410 and "already used" in again.text
    assert 'action="/library/link"' in again.text and sha in again.text
    assert started(edge) == 1
    # the one-click fresh link works
    fresh = client.post("/library/link", data={"csrf_token": helpers.csrf_from(again.text),
                                               "purchase_id": str(pid), "sha256": sha})
    assert fresh.status_code == 303 and client.get(fresh.headers["location"]).content == helpers.PDF


def test_expired_link_offers_a_fresh_one(make_client, shop, helpers, clock):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    clock.advance(24 * 3600 + 5)
    r = client.get(link)
    assert r.status_code == 410 and "expired" in r.text and "fresh link" in r.text
    assert started(edge) == 0
    j = client.get(link, headers={"Accept": "application/json"})
    assert j.status_code == 410 and j.json()["code"] == "link_expired"


def test_forged_link_is_refused(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    r = client.get(forged, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_token"
    assert client.get("/download/not-a-token").status_code == 400
    assert started(edge) == 0


def test_another_users_link_is_refused(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    helpers.make_user(client, "bob@example.com", name="Bob Buyer")
    r = client.get(link)
    assert r.status_code == 403 and "another account" in r.text
    assert b"%PDF" not in r.content and started(edge) == 0
    # nor can Bob mint a link for Ann's purchase
    page = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(page.text), "purchase_id": str(pid),
                                           "sha256": shop.products["budget-planner"]["files"][0]["sha256"]})
    assert r.status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    client.cookies.clear()
    r = client.get(link)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/download/")


def test_file_not_in_the_product_is_refused(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    other = shop.products["font-pack"]["files"][0]["sha256"]
    page = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(page.text), "purchase_id": str(pid),
                                           "sha256": other}, headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "file_not_owned"
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(page.text), "purchase_id": "x"},
                    headers={"Accept": "application/json"})
    assert r.status_code == 422


def test_sixth_download_of_a_file_is_refused(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    sha = shop.products["budget-planner"]["files"][0]["sha256"]
    for _ in range(5):
        assert client.get(helpers.link_for(client, pid, sha)).status_code == 200
    r = client.get(helpers.link_for(client, pid, sha))
    assert r.status_code == 403 and "used all 5 downloads" in r.text
    assert started(edge) == 5
    assert "No downloads left" in client.get("/library").text


def test_eleventh_download_in_an_hour_is_rate_limited(make_client, shop, helpers, clock):
    client, edge, uid = start(make_client, shop, helpers)
    slugs = []
    for i in range(3):
        shop.add_product(f"pack-{i}", [(f"a{i}.pdf", helpers.PDF + bytes([i])), (f"b{i}.pdf", helpers.PDF + bytes([i, i])),
                                       (f"c{i}.pdf", helpers.PDF + bytes([i, i, i])), (f"d{i}.pdf", helpers.PDF + bytes([9, i]))])
        slugs.append(f"pack-{i}")
    links = []
    for slug in slugs:
        pid = helpers.buy(edge, uid, slug)
        links += [helpers.link_for(client, pid, f["sha256"]) for f in shop.products[slug]["files"]]
    for link in links[:10]:
        assert client.get(link).status_code == 200
    r = client.get(links[10], headers={"Accept": "application/json"})
    assert r.status_code == 429 and r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) > 0
    assert started(edge) == 10
    clock.advance(3601)
    assert client.get(helpers.link_for(client, edge.db.execute("SELECT id FROM purchases ORDER BY id DESC").fetchone()[0],
                                       shop.products[slugs[-1]]["files"][-1]["sha256"])).status_code == 200


def test_refunded_purchase_downloads_nothing(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    sha = shop.products["budget-planner"]["files"][0]["sha256"]
    link = helpers.link_for(client, pid, sha)
    edge.db.execute("UPDATE purchases SET status = 'refunded', refunded_at = ? WHERE id = ?", (edge.clock.iso(), pid))
    r = client.get(link)
    assert r.status_code == 403 and "refunded" in r.text and b"%PDF" not in r.content
    assert started(edge) == 0
    assert "was refunded" in client.get("/library").text
    page = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(page.text), "purchase_id": str(pid),
                                           "sha256": sha}, headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json()["code"] == "purchase_inactive"


def test_mint_answers_json_for_api_clients(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    page = client.get("/account")
    r = client.post("/library/link", data={"csrf_token": helpers.csrf_from(page.text), "purchase_id": str(pid),
                                           "sha256": shop.products["budget-planner"]["files"][0]["sha256"]},
                    headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["url"].startswith("http://127.0.0.1:8001/download/")
    assert r.json()["expires_in"] == 86400


def test_missing_file_in_storage_is_a_clear_error(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    f = shop.products["budget-planner"]["files"][0]
    (shop.content / "storage" / f["key"]).unlink()
    r = client.get(helpers.link_for(client, pid, f["sha256"]), headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json()["code"] == "file_missing"


def test_admins_see_every_download_attempt(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, shop.products["budget-planner"]["files"][0]["sha256"])
    client.get(link)
    client.get(link)  # replay: refused, and logged
    assert client.get("/admin/downloads").status_code == 403
    helpers.make_user(client, "root@example.com", role="admin", name="Root Admin")
    page = client.get("/admin/downloads")
    assert page.status_code == 200
    assert "ann@example.com" in page.text and "started" in page.text and "link_used" in page.text
    assert "<td>budget-planner</td><td>ada</td><td>1</td>" in page.text
