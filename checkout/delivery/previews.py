"""Public previews (issue #15): the sample a seller attaches to a product (PDF pages, a short
audio clip, a video or image specimen), served to anyone by its SHA-256 at `/preview/<sha256>`.

Only a SHA-256 that a listed product declares as its `preview` is served, and never one that
is also a file some product sells: `digitaldock validate` already refuses a preview equal to
its own product's file, and this check holds across products too, so the route can never hand
out a paid file. Previews are scanned like every product file (`digitaldock scan`).
"""

from __future__ import annotations

import mimetypes
from typing import Any

from checkout.core.context import Edge
from checkout.core.errors import NotFound
from digitaldock.published import PublishedFile


def _index(edge: Edge) -> tuple[dict[str, PublishedFile], frozenset[str]]:
    """(SHA-256 → preview, every paid file's SHA-256), built once per loaded catalogue."""
    state = edge.catalog.current()
    cached = edge.__dict__.get("_preview_index")
    if cached is not None and cached[0] is state:
        return cached[1], cached[2]
    previews: dict[str, PublishedFile] = {}
    paid: set[str] = set()
    for product in state.products.values():
        paid.update(f.sha256 for f in product.files)
        if product.preview is not None:
            previews[product.preview.sha256] = product.preview
    found = (state, previews, frozenset(paid))
    edge.__dict__["_preview_index"] = found
    return found[1], found[2]


def find(edge: Edge, sha256: str) -> PublishedFile:
    """The preview stored under `sha256`; the same 404 for anything else, a paid file included."""
    previews, paid = _index(edge)
    found = previews.get(sha256)
    if found is None or sha256 in paid:
        raise NotFound("There is no preview here.", code="unknown_preview")
    return found


def media_type(preview: Any) -> str:
    """What the browser is told the preview is (from its name; validate allows only shown kinds)."""
    guessed, _ = mimetypes.guess_type(preview.name)
    return guessed or "application/octet-stream"
