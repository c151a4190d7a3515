"""Issue #22 over real sockets (uvicorn on loopback): a 50 GiB Content-Length is answered 413
at once and the connection closed, and half-sent uploads are each ended with 408, their
connections closed and their spool files removed, instead of staying open."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import httpx

from checkout.accounts import users
from checkout.web.app import create_app

from ...servers import serve
from .uploading import BOUNDARY, FIELDS, part


def _seller_session(edge, url: str, password: str) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a seller signed in through the real login form."""
    state = edge.legal()
    users.create_user(edge, "sam@example.com", "Sam", "seller", edge.hasher.hash(password),
                      list(state.legal.values()), verified=True, send_verification=False, actor_id=0)
    with httpx.Client(base_url=url, timeout=30) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        assert client.post("/login", data={"csrf_token": token, "email": "sam@example.com", "password": password,
                                           "next": "/seller"}).status_code == 303
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/seller/products").text).group(1)
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items()), csrf


def _open(port: int, cookie: str, csrf: str, length: int, body: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall((f"POST /seller/products HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
               f"Accept: application/json\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
               f"Content-Length: {length}\r\n\r\n").encode() + body)
    return s


def _answer(s: socket.socket) -> bytes:
    """Everything the edge sent until it closed the connection (the test fails on its timeout
    if the edge keeps it open)."""
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def test_a_declared_50_gib_upload_is_answered_at_once_and_closed(make_settings, helpers):
    app = create_app(make_settings())
    with serve(app, name="edge") as server:
        cookie, csrf = _seller_session(app.state.edge, server.url, helpers.PASSWORD)
        with _open(server.port, cookie, csrf, 50 * 1024 ** 3, b"") as s:
            answer = _answer(s)
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 413") and b"connection: close" in head
    assert b"51,200 MB" in answer


def test_half_sent_uploads_are_ended_with_408_and_leave_nothing(make_settings, helpers):
    settings = make_settings(UPLOAD_IDLE_SECONDS=1.0, UPLOAD_MAX_CONCURRENT_PER_SELLER=50)
    app = create_app(settings)
    with serve(app, name="edge") as server:
        cookie, csrf = _seller_session(app.state.edge, server.url, helpers.PASSWORD)
        start = b"".join(part(k, v.encode()) for k, v in FIELDS.items())
        start += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="big.zip"\r\n'
                  "Content-Type: application/zip\r\n\r\nPK\x03\x04").encode() + b"\0" * 100_000
        sockets = [_open(server.port, cookie, csrf, 400 * 1024 * 1024, start) for _ in range(40)]
        answers = []
        for s in sockets:  # each waits for its answer; none sends another byte
            with s:
                answers.append(_answer(s))
        spool = Path(settings.data_dir) / "uploads"
        assert list(spool.iterdir()) == []
    for answer in answers:
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 408") and b"connection: close" in head, answer[:300]
        assert b"request_timeout" in answer
