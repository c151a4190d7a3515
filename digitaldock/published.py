"""`catalog.json` as types: what the generator publishes and the edge sells from.

The generator writes the file (`generator.site.catalog_json`) and the checkout edge loads it;
both sides agree on its shape here, so the edge reads `product.price` (a `Money`) instead of
`products[slug]["price"]` and `["currency"]` in twenty places. A product entry that does not
have the shape is refused with the reason (the edge skips it and logs why), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import DigitalDockError
from .money import Money, MoneyError

SCHEMA_VERSION = 1


class PublishedError(DigitalDockError, ValueError):
    """A catalog.json entry does not have the published shape; the message says which field."""


def _str(data: dict[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise PublishedError(f"{key}: expected text, got {type(value).__name__}")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PublishedError(f"{key}: expected a whole number, got {type(value).__name__}")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise PublishedError(f"{key}: expected true or false, got {type(value).__name__}")
    return value


@dataclass(frozen=True)
class PublishedFile:
    """A file a buyer downloads: stored under `key`, checked by `sha256`."""

    name: str
    size: int
    sha256: str
    key: str

    @classmethod
    def from_json(cls, data: Any) -> PublishedFile:
        if not isinstance(data, dict):
            raise PublishedError("files: each file must be an object")
        return cls(_str(data, "name"), _int(data, "size"), _str(data, "sha256"), _str(data, "key"))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256, "key": self.key}


@dataclass(frozen=True)
class PublishedProduct:
    """One product as the storefront lists it (or, `withdrawn`, as it was last listed)."""

    slug: str
    title: str
    seller: str
    price: Money
    pwyw_minimum: Money | None = None
    category: str = ""
    version: str = ""
    license: str = ""
    url: str = ""
    cover: str = ""
    files: tuple[PublishedFile, ...] = field(default_factory=tuple)
    withdrawn: bool = False
    license_keys: bool = False  # each purchase gets a license key (issue #18)
    license_activations: int | None = None  # activations per key; None: no limit
    stamp_pdfs: bool = False  # PDFs are stamped with the buyer's email and order
    preview: PublishedFile | None = None  # the public sample (issue #15), never one of `files`
    bundle: tuple[str, ...] = ()  # a bundle's member products (issue #17); its files hold theirs

    @classmethod
    def from_json(cls, slug: str, data: Any) -> PublishedProduct:
        if not isinstance(data, dict):
            raise PublishedError("the product must be an object")
        currency = _str(data, "currency")
        try:
            price = Money(currency, _int(data, "price"))
            minimum = data.get("pwyw_minimum")
            pwyw = None if minimum is None else Money(currency, _int(data, "pwyw_minimum"))
        except MoneyError as exc:
            raise PublishedError(f"price: {exc}") from None
        files = data.get("files") or []
        if not isinstance(files, list):
            raise PublishedError("files: expected a list")
        bundle = data.get("bundle") or []
        if not isinstance(bundle, list) or not all(isinstance(m, str) for m in bundle):
            raise PublishedError("bundle: expected a list of product slugs")
        return cls(slug=slug, title=_str(data, "title"), seller=_str(data, "seller"), price=price, pwyw_minimum=pwyw,
                   category=_str(data, "category", ""), version=str(data.get("version", "")),
                   license=_str(data, "license", ""), url=_str(data, "url", ""), cover=_str(data, "cover", ""),
                   files=tuple(PublishedFile.from_json(f) for f in files), bundle=tuple(bundle),
                   preview=PublishedFile.from_json(data["preview"]) if data.get("preview") else None,
                   license_keys=_flag(data, "license_keys"), stamp_pdfs=_flag(data, "stamp_pdfs"),
                   license_activations=_int(data, "license_activations") if data.get("license_activations")
                   is not None else None)

    def to_json(self) -> dict[str, Any]:
        """The entry as `catalog.json` holds it (its slug is the key)."""
        return {"title": self.title, "seller": self.seller, "category": self.category, "price": self.price.minor,
                "currency": self.price.currency,
                "pwyw_minimum": self.pwyw_minimum.minor if self.pwyw_minimum else None,
                "version": self.version, "license": self.license, "url": self.url, "cover": self.cover,
                "files": [f.to_json() for f in self.files],
                **({"preview": self.preview.to_json()} if self.preview else {}),
                **({"bundle": list(self.bundle)} if self.bundle else {}),
                **({"license_keys": True} if self.license_keys else {}),
                **({"license_activations": self.license_activations} if self.license_activations else {}),
                **({"stamp_pdfs": True} if self.stamp_pdfs else {})}

    def file(self, sha256: str) -> PublishedFile | None:
        return next((f for f in self.files if f.sha256 == sha256), None)
