"""Markdown to safe HTML.

Descriptions are written by sellers, so they are untrusted: Markdown is rendered with raw
HTML allowed (authors expect <kbd> or a table to work) and the result is then cleaned by
nh3 against an allowlist. A <script>, an event handler or a javascript: URL never survives.
"""

from __future__ import annotations

import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

# GitHub's cmark: CommonMark plus tables and strikethrough, in C (five times markdown-it-py's
# speed, which matters at ten thousand products). UNSAFE keeps raw HTML for nh3 to judge:
# nh3's allowlist, not the Markdown parser, is what makes the output safe.
_OPTIONS = Options.CMARK_OPT_UNSAFE


def _render(text: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _cleaner(extra_tags: set[str], extra_attributes: dict[str, set[str]]) -> nh3.Cleaner:
    # built once: handing nh3 the allowlists on every call cost two thirds of its time
    return nh3.Cleaner(
        tags=ALLOWED_TAGS | extra_tags,
        attributes={**ALLOWED_ATTRIBUTES, **extra_attributes},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_SELLER_CLEANER = _cleaner(set(), {})
_TRUSTED_CLEANER = _cleaner({"h2"}, {"h2": {"id"}})
_TOP_HEADING = re.compile(r"<(/?)h[12]>")


def render_markdown(text: str, *, trusted_headings: bool = False) -> str:
    """Render untrusted Markdown to sanitised HTML.

    Seller text may not use h1/h2 (the page owns those), so `##` is demoted to h3; legal
    documents pass `trusted_headings` to keep their `##` sections as h2 with anchors.
    """
    html = _render(text)
    if trusted_headings:
        return _TRUSTED_CLEANER.clean(_anchor_headings(html))
    return _SELLER_CLEANER.clean(_TOP_HEADING.sub(r"<\1h3>", html))


def heading_id(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _anchor_headings(html: str) -> str:
    return re.sub(r"<h2>(.*?)</h2>",
                  lambda m: f'<h2 id="{heading_id(re.sub(r"<[^>]+>", "", m.group(1)))}">{m.group(1)}</h2>',
                  html)
