"""A Sentry ingest stand-in: real HTTP on 127.0.0.1 that keeps every envelope sentry-sdk sends.

Point a DSN at it (`standin.dsn`, ``http://public@127.0.0.1:PORT/1``); the SDK then POSTs
envelopes to ``/api/1/envelope/`` (gzip-compressed). Each request is kept twice: the raw
decompressed bytes (`raw`, to assert a secret appears nowhere) and the parsed items
(`items()`: ``(item header, payload)`` pairs, JSON payloads decoded).
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def parse_envelope(data: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Any]]]:
    """An envelope's header and its items (https://develop.sentry.dev/sdk/envelopes/)."""
    header_line, _, rest = data.partition(b"\n")
    header = json.loads(header_line or b"{}")
    items: list[tuple[dict[str, Any], Any]] = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[:item["length"]], rest[item["length"] + 1:]
        else:
            payload, _, rest = rest.partition(b"\n")
        try:
            items.append((item, json.loads(payload)))
        except ValueError:
            items.append((item, payload))
    return header, items


class SentryStandIn:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.raw: list[bytes] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                with standin.lock:
                    standin.raw.append(body)
                    standin.paths.append(self.path)
                data = b'{"id": "00000000000000000000000000000000"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://public@{host}:{port}/1"

    def items(self, item_type: str | None = None) -> list[Any]:
        """Payloads of every item received so far, optionally only one type (``event``, ...)."""
        with self.lock:
            raw = list(self.raw)
        out = []
        for body in raw:
            for header, payload in parse_envelope(body)[1]:
                if item_type is None or header.get("type") == item_type:
                    out.append(payload)
        return out

    def start(self) -> SentryStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
