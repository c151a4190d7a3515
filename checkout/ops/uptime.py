"""`digitaldock uptime URL...`: probe the storefront, its catalog.json and the edge's /readyz.

Each URL must answer 200 within the timeout; a URL ending in `catalog.json` must also be the
catalogue (JSON with `products`), one ending in `/readyz` must say `"status": "ready"`. The
first failure becomes a one-line reason and a non-zero exit, which is all cron, a systemd
timer (`OnFailure=`) or a free external monitor needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass
class Probe:
    url: str
    ok: bool
    reason: str
    detail: str = ""


def default_urls(site_url: str, checkout_url: str) -> list[str]:
    return [site_url.rstrip("/") + "/", site_url.rstrip("/") + "/catalog.json", checkout_url.rstrip("/") + "/readyz"]


def probe(url: str, timeout: float = 10.0, client: httpx.Client | None = None) -> Probe:
    try:
        resp = (client or httpx).get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        return Probe(url, False, f"{url}: cannot connect ({type(exc).__name__})")
    path = httpx.URL(url).path
    if path.endswith("/readyz"):
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or body.get("status") != "ready":
            failed = sorted(k for k, c in (body.get("checks") or {}).items() if not c.get("ok"))
            why = f" (failing: {', '.join(failed)})" if failed else ""
            return Probe(url, False, f"{url}: not ready, HTTP {resp.status_code}{why}")
        return Probe(url, True, "ready", "degraded" if body.get("detail") == "degraded" else "")
    if resp.status_code != 200:
        return Probe(url, False, f"{url}: HTTP {resp.status_code}")
    if path.endswith("catalog.json"):
        try:
            ok = isinstance(resp.json().get("products"), dict)
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            return Probe(url, False, f"{url}: is not the catalogue (no products in the JSON)")
    return Probe(url, True, f"HTTP {resp.status_code}")


def probe_all(urls: list[str], timeout: float = 10.0) -> list[Probe]:
    with httpx.Client() as client:
        return [probe(u, timeout, client) for u in urls]
