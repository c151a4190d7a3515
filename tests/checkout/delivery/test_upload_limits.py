"""Issue #22, uploads: size caps bite at once, stalled bodies time out, and one seller cannot
hold more than UPLOAD_MAX_CONCURRENT_PER_SELLER uploads open. Each test drives the edge's ASGI
app with a body the test controls and counts the bytes the edge pulled, so "at once" is a
number of bytes, not a time."""

from __future__ import annotations

import asyncio

from .uploading import BOUNDARY, FIELDS, PDF, Asgi, chunks, csrf, multipart, part, png, state  # noqa: F401

KIB, MIB, GIB = 1024, 1024 * 1024, 1024 * 1024 * 1024
CHUNK = b"\0" * (64 * KIB)


def headers(token: str, length: int | None = None) -> dict[str, str]:
    h = {"content-type": f"multipart/form-data; boundary={BOUNDARY}", "x-csrf-token": token,
         "accept": "application/json"}
    if length is not None:
        h["content-length"] = str(length)
    return h


def preamble(token: str, field_name: str = "cover", filename: bytes = b"cover.png") -> bytes:
    """The form's fields and the start of one file part, whose bytes follow in chunks."""
    body = part("csrf_token", token.encode())
    for k, v in FIELDS.items():
        body += part(k, v.encode())
    return body + (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field_name}"; filename="'.encode()
                   + filename + b'"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n')


def test_a_declared_50_gib_upload_is_refused_before_a_byte_is_read(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    call = Asgi(client, headers(token, 50 * GIB)).run(chunks(forever=True, then=CHUNK))
    assert call.status == 413 and call.pulled == 0
    assert call.json()["code"] == "payload_too_large" and "51,200 MB" in call.json()["message"]
    assert call.response_headers["connection"] == "close"  # the rest of the body is never read
    assert state(client)["spool"] == []


def test_the_whole_request_cap_defaults_to_three_files_and_every_image(seller, helpers):
    from checkout.delivery.uploads import max_request_bytes

    settings = seller().app.state.edge.settings
    assert max_request_bytes(settings) == 3 * 500 * MIB + 11 * 10 * MIB + MIB
    assert max_request_bytes(settings.replace(UPLOAD_MAX_REQUEST_BYTES=5 * MIB)) == 5 * MIB


def test_a_60_mib_cover_stops_at_the_chunk_that_crosses_10_mib(seller, helpers):
    client = seller()
    token = csrf(client, helpers)
    head = preamble(token)
    call = Asgi(client, headers(token)).run(chunks(head, then=CHUNK, repeat=60 * MIB // len(CHUNK)))
    assert call.status == 413 and "Cover image: cover.png is larger than 10 MB" in call.json()["message"]
    assert call.json()["fields"]["cover"].startswith("Cover image:")
    assert call.pulled <= len(head) + 10 * MIB + len(CHUNK)  # not one chunk more than the crossing one
    assert call.response_headers["connection"] == "close"
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_a_product_file_over_its_limit_stops_at_once(seller, helpers):
    client = seller(UPLOAD_MAX_FILE_BYTES=MIB)
    token = csrf(client, helpers)
    head = preamble(token, "files", b"big.zip")
    call = Asgi(client, headers(token)).run(chunks(head, then=CHUNK, repeat=40))
    assert call.status == 413 and "Product files: big.zip is larger than 1 MB" in call.json()["message"]
    assert call.pulled <= len(head) + MIB + len(CHUNK)
    assert state(client)["spool"] == []


def test_a_chunked_upload_is_cut_at_the_whole_request_cap(seller, helpers):
    # each file is under its own limit; together they are over the request's
    client = seller(UPLOAD_MAX_REQUEST_BYTES=MIB)
    token = csrf(client, helpers)
    pieces = [multipart(token, [("files", b"a.pdf", PDF + b"\0" * (600 * KIB)),
                                ("files", b"b.pdf", PDF + b"\0" * (600 * KIB))])[i:i + 64 * KIB]
              for i in range(0, 1300 * KIB, 64 * KIB)]
    call = Asgi(client, headers(token)).run(chunks(*pieces))
    assert call.status == 413 and "at most 1 MB in all" in call.json()["message"]
    assert call.pulled <= MIB + 64 * KIB
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_a_stalled_upload_times_out_with_408_and_leaves_no_spool_file(seller, helpers):
    client = seller(UPLOAD_IDLE_SECONDS=0.2)
    token = csrf(client, helpers)
    call = Asgi(client, headers(token)).run(chunks(preamble(token), CHUNK, stall=True))
    assert call.status == 408 and call.json()["code"] == "request_timeout"
    assert "nothing arrived for 0.2 seconds" in call.json()["message"]
    assert call.response_headers["connection"] == "close"
    assert state(client) == {"submissions": 0, "stored": [], "spool": []}


def test_a_third_concurrent_upload_of_one_seller_gets_429_with_retry_after(seller, helpers):
    client = seller()
    helpers.make_user(client, "kofi@example.com", role="seller", name="Kofi Seller")  # another seller
    other_token, other_cookies = csrf(client, helpers), dict(client.cookies.items())
    helpers.sign_in(client, "sam@example.com")
    token = csrf(client, helpers)

    async def uploads() -> tuple[list[Asgi], Asgi]:
        gate, streaming = asyncio.Event(), []

        def held_open(token_: str):
            pieces = [preamble(token_)]

            async def receive() -> dict:
                if pieces:
                    streaming.append(1)
                    return {"type": "http.request", "body": pieces.pop(), "more_body": True}
                await gate.wait()  # the client keeps the upload open...
                return {"type": "http.disconnect"}  # ...then goes away
            return receive

        open_calls = [Asgi(client, headers(token)) for _ in range(2)]
        tasks = [asyncio.ensure_future(c.acall(held_open(token))) for c in open_calls]
        while len(streaming) < 2:
            await asyncio.sleep(0.01)
        third = await Asgi(client, headers(token)).acall(chunks(preamble(token), CHUNK))
        elsewhere = Asgi(client, headers(other_token), cookies=other_cookies)
        tasks.append(asyncio.ensure_future(elsewhere.acall(held_open(other_token))))
        while len(streaming) < 3:  # another seller's upload is let in meanwhile
            await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(*tasks)
        return [*open_calls, elsewhere], third

    (first, second, elsewhere), third = client.portal.call(uploads)
    assert third.status == 429 and third.json()["code"] == "uploads_in_progress"
    assert third.response_headers["retry-after"] == "30" and third.pulled == 0
    assert "2 uploads in progress" in third.json()["message"]
    assert first.status == second.status == elsewhere.status == 400  # interrupted by their client
    # the slots are free again: the next upload goes through
    r = client.post("/seller/products", content=multipart(token, [("files", b"a.pdf", PDF), ("cover", b"c.png", png())]),
                    headers=headers(token))
    assert r.status_code == 201, r.text
    assert state(client)["spool"] == []
