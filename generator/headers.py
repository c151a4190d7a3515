"""The storefront's own response headers, as `digitaldock serve` sends them; deploy/Caddyfile
sends the same in production (a test runs both and compares).

Two kinds of file live on the storefront's origin:

- the site: pages, theme files, data files, all made by the build from the theme. The theme
  has no inline script (JSON-LD is data, not script), so the policy allows scripts from the
  site only; the page reads the cart count from the edge (CHECKOUT_URL), plays and shows a
  product's public preview from it (`media-src`, `img-src`; issue #15), and its forms post
  there (and on, by redirect, to Paystack's payment page); nothing may frame it.
- files a seller supplied: everything under /images/ (covers, gallery images, avatars, the
  images of content/). Shown in an <img>, a file's own headers do not matter; opened as a
  document (an SVG, a file that is "really" HTML) it would run its script with the
  storefront's origin. `sandbox` gives such a document an opaque origin and no script at all,
  and `default-src 'none'` keeps it from loading anything.
"""

from __future__ import annotations

from urllib.parse import urlsplit

USER_FILE_PREFIXES = ("/images/",)


def origin(url: str) -> str:
    """scheme://host[:port] of a URL: what a CSP source expression names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


PAYSTACK_CHECKOUT = "https://checkout.paystack.com"
"""Where the edge sends a buyer to pay. A Buy form posts to the edge, which redirects there, and
form-action applies to the redirect too."""


def site_csp(site_url: str, checkout_url: str, pay_pages: tuple[str, ...] = (PAYSTACK_CHECKOUT,)) -> str:
    site, edge = origin(site_url), origin(checkout_url)
    forms = " ".join(dict.fromkeys([site, edge, *(origin(p) for p in pay_pages)]))
    return ("default-src 'self'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' data: {site} {edge}; media-src 'self' {edge}; font-src 'self'; connect-src 'self' {edge}; "
            f"form-action 'self' {forms}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'")


USER_FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"


def is_user_file(path: str) -> bool:
    """Whether a request path names a file a seller supplied (the path as requested, before
    any decoding: a server that decodes %2F into / must decide on what it then serves)."""
    return path.startswith(USER_FILE_PREFIXES)


def site_headers(site_url: str, checkout_url: str,
                 pay_pages: tuple[str, ...] = (PAYSTACK_CHECKOUT,)) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", site_csp(site_url, checkout_url, pay_pages)),
        ("X-Frame-Options", "DENY"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]


def user_file_headers() -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", USER_FILE_CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
