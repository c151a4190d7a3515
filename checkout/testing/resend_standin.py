"""A Resend API stand-in: real HTTP on 127.0.0.1 that records emails and can be told to fail.

`POST /emails` with `Authorization: Bearer <key>` stores the message and answers `{"id"}`;
a repeated `Idempotency-Key` returns the first answer without storing twice (as Resend does).
Control endpoints for tests: `POST /_control/fail {"count": n, "status": 500}` makes the next
n sends fail; `GET /_control/messages` lists what was delivered.

Run alone: `python -m checkout.testing.resend_standin --port 8025 --key re_test`.
"""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ResendStandIn:
    def __init__(self, api_key: str = "re_test", host: str = "127.0.0.1", port: int = 0):
        self.api_key = api_key
        self.messages: list[dict[str, Any]] = []
        self.by_key: dict[str, str] = {}
        self.fail_next = 0
        self.fail_status = 500
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    return json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return None

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/_control/messages":
                    with standin.lock:
                        self._reply(200, list(standin.messages))
                else:
                    self._reply(404, {"name": "not_found", "message": "Not found", "statusCode": 404})

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                if self.path == "/_control/fail":
                    with standin.lock:
                        standin.fail_next = int(body.get("count", 1))
                        standin.fail_status = int(body.get("status", 500))
                    self._reply(200, {"ok": True})
                    return
                if self.path != "/emails":
                    self._reply(404, {"name": "not_found", "message": "Not found", "statusCode": 404})
                    return
                if self.headers.get("Authorization") != f"Bearer {standin.api_key}":
                    self._reply(401, {"name": "missing_api_key", "message": "Invalid API key", "statusCode": 401})
                    return
                if not isinstance(body, dict) or not all(k in body for k in ("from", "to", "subject")):
                    self._reply(422, {"name": "validation_error", "message": "Missing fields", "statusCode": 422})
                    return
                with standin.lock:
                    if standin.fail_next > 0:
                        standin.fail_next -= 1
                        self._reply(standin.fail_status, {"name": "application_error", "message": "Told to fail",
                                                          "statusCode": standin.fail_status})
                        return
                    key = self.headers.get("Idempotency-Key")
                    if key and key in standin.by_key:
                        self._reply(200, {"id": standin.by_key[key]})
                        return
                    mid = str(uuid.uuid4())
                    if key:
                        standin.by_key[key] = mid
                    standin.messages.append({"id": mid, "idempotency_key": key, **body})
                self._reply(200, {"id": mid})

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "ResendStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--key", default="re_test")
    args = parser.parse_args()
    s = ResendStandIn(args.key, port=args.port)
    print(f"Resend stand-in on {s.url}", flush=True)
    s.server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
