"""Where a webhook may go: public http(s) addresses only (SSRF protection).

`check_url` parses an endpoint's URL and resolves its host; every address it resolves to must
be a global one, or the URL is refused (127.0.0.1, 10.0.0.0/8, 169.254.169.254 the cloud
metadata service, ::1, fc00::/7, multicast, reserved...). The sender then connects to the
address checked here, not to a second lookup of the name, so a DNS answer that changes between
the check and the call (rebinding) cannot steer it inside. `allow_private` (the
WEBHOOK_ALLOW_PRIVATE setting) is for tests and local development only.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from checkout.integrations.errors import UnsafeEndpoint

MAX_URL = 2000


@dataclass(frozen=True)
class Target:
    url: str
    host: str  # the name, for the Host header and TLS
    address: str  # the checked IP address the sender connects to
    port: int
    scheme: str
    path: str  # path and query


def _field(message: str) -> UnsafeEndpoint:
    return UnsafeEndpoint(message, fields={"url": message})


def parse(url: object) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of an acceptable URL, or a 422 naming `url`."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL or not url.isascii() or not url.isprintable():
        raise _field(f"must be an http(s) URL of at most {MAX_URL} printable ASCII characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _field("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _field("must start with https:// (or http://) and name a host")
    if parts.username or parts.password:
        raise _field("must not carry a user name or password; the signature authenticates us")
    if parts.fragment:
        raise _field("must not have a #fragment")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), \
        (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise _field(f"its host {host[:100]!r} does not resolve") from None
    return sorted({str(info[4][0]) for info in infos})


def check_url(url: object, allow_private: bool = False) -> Target:
    """The endpoint as the sender will call it; a 422 naming `url` for anything unsafe."""
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port)
    if not allow_private:
        bad = [a for a in addresses if not is_public(a)]
        if bad:
            raise _field(f"resolves to {bad[0]}, a private, loopback or reserved address; webhooks go to the "
                         "public internet only")
    return Target(str(url), host, addresses[0], port, scheme, path)
