"""Range requests cannot dodge the download count: a used link resumes only with a strict range
that does not start at byte 0, for DOWNLOAD_RESUME_MINUTES after its start; a range from byte 0,
or a Range header that is not one strict `bytes=N-[M]`, is a new download (a replay on a used
link, counted on a fresh one)."""

from __future__ import annotations

import io
import re

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkout.delivery import ranges, storage

from .test_downloads import start, started

MALFORMED = ["bytes=0-10,20-", "bytes=100-200, 300-", "bytes=-100", "bytes= 100-", "bytes=100 -", "items=100-",
             "bytes=100-50", "bytes=abc-", "bytes=1" + "0" * 40 + "-", "bytes=", "bytes=-", "100-", "BYTES=100-",
             "bytes=١٢٣-"]


def used_link(make_client, shop, helpers, **settings_):
    client, edge, uid = start(make_client, shop, helpers, **settings_)
    pid = helpers.buy(edge, uid, "budget-planner")
    sha = shop.products["budget-planner"]["files"][0]["sha256"]
    link = helpers.link_for(client, pid, sha)
    assert client.get(link).content == helpers.PDF
    return client, edge, pid, sha, link


def test_range_from_byte_zero_on_a_used_link_is_a_replay(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)
    for _ in range(8):
        r = client.get(link, headers={"Range": "bytes=0-", "Accept": "application/json"})
        assert r.status_code == 410 and r.json()["code"] == "link_used"
        assert b"%PDF" not in r.content
    assert client.get(link, headers={"Range": f"bytes=0-{len(helpers.PDF) - 1}"}).status_code == 410
    assert started(edge) == 1


def test_ranged_fresh_links_count_until_the_allowance_is_used(make_client, shop, helpers):
    client, edge, uid = start(make_client, shop, helpers)
    pid = helpers.buy(edge, uid, "budget-planner")
    sha = shop.products["budget-planner"]["files"][0]["sha256"]
    served = 0
    for _ in range(8):
        r = client.get(helpers.link_for(client, pid, sha), headers={"Range": "bytes=0-", "Accept": "application/json"})
        if r.status_code == 206:
            assert r.content == helpers.PDF
            served += 1
        else:
            assert r.status_code == 403 and r.json()["code"] == "download_limit"
    assert served == started(edge) == 5


def test_a_resume_serves_the_rest_uncounted_and_is_logged(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)
    for _ in range(3):
        r = client.get(link, headers={"Range": "bytes=100-"})
        assert r.status_code == 206 and r.content == helpers.PDF[100:]
    r = client.get(link, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == helpers.PDF[100:200]
    assert started(edge) == 1
    assert edge.db.execute("SELECT COUNT(*) FROM downloads WHERE outcome = 'resumed'").fetchone()[0] == 4
    assert "resumed" in client.get("/library").text


def test_a_resume_is_refused_after_the_window(make_client, shop, helpers, clock):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers, DOWNLOAD_RESUME_MINUTES=30)
    clock.advance(29 * 60)
    assert client.get(link, headers={"Range": "bytes=100-"}).status_code == 206
    clock.advance(2 * 60)
    r = client.get(link, headers={"Range": "bytes=100-", "Accept": "application/json"})
    assert r.status_code == 410 and r.json()["code"] == "link_used"
    assert started(edge) == 1


def test_resuming_can_be_switched_off(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers, DOWNLOAD_RESUME_MINUTES=0)
    assert client.get(link, headers={"Range": "bytes=100-"}).status_code == 410


def test_malformed_ranges_are_new_downloads(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)
    for header in MALFORMED:
        r = client.get(link, headers={"Range": header.encode("utf-8"), "Accept": "application/json"})
        assert r.status_code == 410 and r.json()["code"] == "link_used", header
    assert started(edge) == 1
    # on a fresh link the same headers start (and count) a download; none is a 500
    counted = 1
    for header in MALFORMED[:4]:
        r = client.get(helpers.link_for(client, pid, sha), headers={"Range": header})
        counted += 1
        assert r.status_code in (200, 206, 400, 416), header
        assert started(edge) == counted


def test_two_range_headers_are_not_a_resume(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)
    r = client.get(link, headers=[("Range", "bytes=100-"), ("Range", "bytes=0-")])
    assert r.status_code == 410


def test_a_mismatched_if_range_does_not_turn_a_resume_into_the_whole_file(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)
    r = client.get(link, headers={"Range": "bytes=100-", "If-Range": '"not-the-etag"'})
    assert r.status_code == 206 and r.content == helpers.PDF[100:]
    assert r.headers["content-range"] == f"bytes 100-{len(helpers.PDF) - 1}/{len(helpers.PDF)}"


def test_s3_head_gives_no_presigned_url_and_resumes_are_new_downloads(make_client, shop, helpers, moto_url,
                                                                       s3_bucket):
    client, edge, uid = start(make_client, shop, helpers, STORAGE_BACKEND="s3", S3_BUCKET=s3_bucket,
                              S3_ENDPOINT_URL=moto_url)
    f = shop.products["budget-planner"]["files"][0]
    storage.storage(edge).put(f["key"], io.BytesIO(helpers.PDF))
    pid = helpers.buy(edge, uid, "budget-planner")
    link = helpers.link_for(client, pid, f["sha256"])
    for _ in range(3):
        head = client.head(link)
        assert head.status_code == 200 and "location" not in head.headers
        assert head.headers["content-length"] == str(len(helpers.PDF))
        assert head.headers["content-disposition"].startswith("attachment;")
    assert started(edge) == 0
    r = client.get(link, headers={"Range": "bytes=0-"})
    assert r.status_code == 302 and started(edge) == 1
    assert httpx.get(r.headers["location"]).content == helpers.PDF
    again = client.get(link, headers={"Range": "bytes=100-", "Accept": "application/json"})
    assert again.status_code == 410 and "location" not in again.headers
    assert started(edge) == 1


# --- the parser and the endpoint under any header ---------------------------------------------

@given(start_=st.integers(0, 10**18 - 1), length=st.one_of(st.none(), st.integers(0, 10**6)))
def test_parse_reads_back_what_header_writes(start_, length):
    end = None if length is None else min(start_ + length, 10**18 - 1)
    byte_range = ranges.ByteRange(start_, end)
    assert ranges.parse(byte_range.header()) == byte_range
    assert byte_range.resumes == (start_ > 0)


@given(st.one_of(st.text(max_size=40), st.from_regex(r"\Abytes=[0-9]{0,20}-[0-9]{0,20}\Z")))
def test_parse_accepts_only_one_strict_range(header):
    found = ranges.parse(header)
    strict = re.fullmatch(r"bytes=([0-9]{1,18})-([0-9]{0,18})", header)
    if strict is None or (strict[2] and int(strict[2]) < int(strict[1])):
        assert found is None
    else:
        assert found == ranges.ByteRange(int(strict[1]), int(strict[2]) if strict[2] else None)


HEADERS = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.from_regex(r"\Abytes=[0-9]{0,6}-[0-9]{0,6}(, ?[0-9]{0,4}-[0-9]{0,4})?\Z"),
)


def test_a_used_link_never_serves_byte_zero_again_whatever_the_range(make_client, shop, helpers):
    client, edge, pid, sha, link = used_link(make_client, shop, helpers)

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(header=HEADERS, if_range=st.one_of(st.none(), st.just(f'"{sha}"'), st.just('"other"')))
    def check(header, if_range):
        extra = {} if if_range is None else {"If-Range": if_range}
        r = client.get(link, headers={"Range": header, "Accept": "application/json", **extra})
        assert r.status_code in (206, 410, 416), (header, r.status_code)
        if r.status_code == 206:
            first = int(r.headers["content-range"].split(" ")[1].split("-")[0])
            assert first > 0 and r.content == helpers.PDF[first:first + len(r.content)]
        assert started(edge) == 1

    check()
