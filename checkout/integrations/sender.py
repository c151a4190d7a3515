"""One webhook delivery over HTTP, and nothing an endpoint can do hurts the edge.

- The address is the one `addresses.check_url` approved (checked again at every attempt: a URL
  may resolve differently tomorrow); the connection goes to that address, with the name in the
  Host header and in TLS (SNI and certificate check), so DNS cannot rebind it elsewhere.
- Redirects are not followed (a 3xx is a failed delivery: redirect loops go nowhere).
- Connect and read share WEBHOOK_TIMEOUT_SECONDS; the answer is read up to
  WEBHOOK_MAX_RESPONSE_BYTES and the connection closed, so a huge or endless answer costs nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from checkout.integrations import addresses
from checkout.integrations.errors import UnsafeEndpoint

KEEP_BYTES = 2000
USER_AGENT = "DigitalDock-Webhooks/1"


@dataclass
class Outcome:
    ok: bool
    status: int | None
    body: str
    error: str | None
    duration_ms: int


def _url_for(target: addresses.Target) -> str:
    host = f"[{target.address}]" if ":" in target.address else target.address
    return f"{target.scheme}://{host}:{target.port}{target.path}"


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, max_bytes: int,
         allow_private: bool) -> Outcome:
    started = time.monotonic()

    def done(ok: bool, status: int | None, text: str, error: str | None) -> Outcome:
        return Outcome(ok, status, text[:KEEP_BYTES], error, int((time.monotonic() - started) * 1000))

    try:
        target = addresses.check_url(url, allow_private)
    except UnsafeEndpoint as exc:
        return done(False, None, "", exc.message)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
            request = client.build_request("POST", _url_for(target), content=body,
                                           headers={**headers, "Host": host_header, "User-Agent": USER_AGENT,
                                                    "Content-Type": "application/json"},
                                           extensions={"sni_hostname": target.host})
            deadline = started + timeout
            response = client.send(request, stream=True)
            try:
                read = bytearray()
                for chunk in response.iter_raw():
                    read += chunk
                    if len(read) >= max_bytes or time.monotonic() > deadline:
                        break
                text = bytes(read[:max_bytes]).decode("utf-8", "replace")
                status = response.status_code
            finally:
                response.close()
    except httpx.TimeoutException:
        return done(False, None, "", f"no answer within {timeout:g} s")
    except httpx.HTTPError as exc:
        return done(False, None, "", f"{type(exc).__name__}: {str(exc)[:300]}")
    if 200 <= status < 300:
        return done(True, status, text, None)
    if 300 <= status < 400:
        return done(False, status, text, f"answered {status}: redirects are not followed")
    return done(False, status, text, f"answered {status}")
