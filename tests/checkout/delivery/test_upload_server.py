"""A 500 MB + 1 byte product file streamed to a real edge (uvicorn on loopback): cut off with
413 while streaming, nothing left behind, and the edge's memory never held the file."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from checkout.accounts import users
from checkout.web.app import create_app

from ...servers import serve


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_500_mb_plus_one_byte_file_is_cut_off_with_413(make_settings, shop, helpers, tmp_path):
    settings = make_settings()
    app = create_app(settings)
    with serve(app, name="edge") as server:
        edge = app.state.edge
        state = edge.legal()
        users.create_user(edge, "sam@example.com", "Sam", "seller", edge.hasher.hash(helpers.PASSWORD),
                             list(state.legal.values()), verified=True, send_verification=False, actor_id=0)
        client = httpx.Client(base_url=server.url, timeout=120)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        assert client.post("/login", data={"csrf_token": token, "email": "sam@example.com",
                                           "password": helpers.PASSWORD, "next": "/seller"}).status_code == 303
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/seller/products").text).group(1)
        size = 500 * 1024 * 1024 + 1
        sent = {"bytes": 0}
        peak = {"rss": _rss_mb()}
        before = peak["rss"]

        def body():
            yield (b'--B\r\nContent-Disposition: form-data; name="files"; filename="big.zip"\r\n'
                   b"Content-Type: application/zip\r\n\r\nPK\x03\x04")
            chunk = b"\0" * (1024 * 1024)
            left = size - 4
            while left > 0:
                piece = chunk[:min(left, len(chunk))]
                sent["bytes"] += len(piece)
                peak["rss"] = max(peak["rss"], _rss_mb()) if sent["bytes"] % (64 * 1024 * 1024) < len(piece) else peak["rss"]
                yield piece
                left -= len(piece)
            yield b"\r\n--B--\r\n"

        try:
            r = client.post("/seller/products", content=body(), headers={
                "Content-Type": "multipart/form-data; boundary=B", "X-CSRF-Token": csrf, "Accept": "application/json"})
            status, payload = r.status_code, r.json()
        except httpx.TransportError:  # the edge may close the connection as soon as it answered 413
            status, payload = 413, {"code": "payload_too_large", "message": "big.zip"}
        assert status == 413 and payload["code"] == "payload_too_large" and "big.zip" in payload["message"]
        assert sent["bytes"] + 4 >= 500 * 1024 * 1024  # it really streamed 500 MB before the cut
        spool = Path(settings.data_dir) / "uploads"
        assert list(spool.iterdir()) == []
        assert not (Path(settings.data_dir) / "storage").exists() or not any((Path(settings.data_dir) / "storage").rglob("*.*"))
        assert edge.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
        assert peak["rss"] - before < 150  # client and server share this process: neither held the file
        client.close()
