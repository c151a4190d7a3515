"""Helpers for the upload tests: a signed-in seller, multipart bodies built by hand (so a test
controls every byte and every file name), and a driver that calls the edge's ASGI app directly
with a `receive` the test controls, counting how much of the body the edge pulled."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PIL import Image

PDF = b"%PDF-1.4\n" + b"1 0 obj<<>>endobj\n" * 100 + b"%%EOF\n"
FIELDS = {"title": "Harbour Sans", "slug": "harbour-sans", "category": "fonts", "tags": "sans, display",
          "price": "12.50", "currency": "USD", "summary": "A sturdy sans serif for signs and screens.",
          "license": "Personal and commercial use", "version": "1.0",
          "description": "Harbour Sans is drawn from the painted signs of a harbour town.\n\n**Four weights.**"}
BOUNDARY = "xxBOUNDARYxx"


def png(size: tuple[int, int] = (8, 8), color: Any = (200, 40, 40), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def csrf(client, helpers) -> str:
    return helpers.csrf_from(client.get("/seller/products").text)


def part(name: str, value: bytes, filename: bytes | None = None, ctype: str = "application/octet-stream") -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        head += b'; filename="' + filename + b'"\r\nContent-Type: ' + ctype.encode()
    return head + b"\r\n\r\n" + value + b"\r\n"


def multipart(token: str, files: list[tuple[str, bytes, bytes]], fields: dict[str, str] | None = None) -> bytes:
    """The form as a browser sends it: the CSRF token first, the text fields, then each
    (field, raw file name, content)."""
    body = part("csrf_token", token.encode())
    for k, v in {**FIELDS, **(fields or {})}.items():
        body += part(k, v.encode())
    for field_name, filename, data in files:
        body += part(field_name, data, filename)
    return body + f"--{BOUNDARY}--\r\n".encode()


def post_raw(client, body: bytes, json_: bool = True):
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if json_:
        headers["Accept"] = "application/json"
    return client.post("/seller/products", content=body, headers=headers)


def state(client) -> dict[str, Any]:
    edge = client.app.state.edge
    root = Path(edge.settings.data_dir) / "storage"
    stored = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []
    spool = Path(edge.settings.data_dir) / "uploads"
    return {"submissions": edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0],
            "stored": [k for k in stored if not k.startswith("quarantine/")],
            "spool": list(spool.iterdir()) if spool.exists() else []}


class Asgi:
    """One request straight into the app, in the TestClient's event loop: the test's `receive`
    decides what arrives and when; `pulled` counts the body bytes the edge asked for."""

    def __init__(self, client, headers: dict[str, str], path: str = "/seller/products",
                 cookies: dict[str, str] | None = None):
        self.client, self.path = client, path
        cookie = "; ".join(f"{k}={v}" for k, v in (cookies or dict(client.cookies.items())).items())
        self.headers = [(k.lower().encode(), v.encode()) for k, v in {"cookie": cookie, **headers}.items()]
        self.pulled = 0
        self.messages: list[dict] = []

    async def acall(self, receive: Callable[[], Awaitable[dict]]) -> "Asgi":
        async def counting() -> dict:
            message = await receive()
            self.pulled += len(message.get("body", b""))
            return message

        async def send(message: dict) -> None:
            self.messages.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": self.path, "raw_path": self.path.encode(), "query_string": b"",
                 "root_path": "", "headers": self.headers, "client": ("127.0.0.1", 50000),
                 "server": ("testserver", 80), "state": {}}
        await self.client.app(scope, counting, send)
        return self

    def run(self, receive: Callable[[], Awaitable[dict]]) -> "Asgi":
        return self.client.portal.call(self.acall, receive)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.messages if m["type"] == "http.response.start")

    @property
    def response_headers(self) -> dict[str, str]:
        start = next(m for m in self.messages if m["type"] == "http.response.start")
        return {k.decode().lower(): v.decode() for k, v in start["headers"]}

    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"))


def chunks(*pieces: bytes, then: bytes = b"", repeat: int = 0, forever: bool = False, stall: bool = False):
    """A `receive` giving `pieces`, then `then` `repeat` times (or without end), then the end of
    the body (or, with `stall`, nothing ever again: a client that stopped sending)."""
    queue = list(pieces) + [then] * repeat

    async def receive() -> dict:
        if queue:
            return {"type": "http.request", "body": queue.pop(0), "more_body": True}
        if forever:
            return {"type": "http.request", "body": then, "more_body": True}
        if stall:
            await asyncio.Event().wait()
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive
