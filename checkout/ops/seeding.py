"""Fake but realistic demo data at scale, made through the real code paths (issue #21).

`digitaldock seed --products N --buyers N --orders N`:

- **products**: Faker writes sellers and products as the same Markdown files a pull request
  adds (front matter checked by `digitaldock.schema` when the storefront is built), their files
  put in the edge's storage with their real size and SHA-256; then the storefront is built
  (`approval.rebuild`, as after an approval) and the edge loads the new `catalog.json`;
- **buyers**: accounts through `users.create_user` (consent to the current legal documents,
  verified, one password hash for all of them: argon2 is slow on purpose);
- **orders**: `orders.create_order` prices each from the catalogue, and `charges.apply_charge`
  applies Paystack's `charge.success` exactly as the webhook does (purchases, the ledger's
  sale journal, emails), spread over the last `days` days.

The receipts and sale emails those orders queue are for made-up addresses: they are removed
from the outbox (never sent). Everything is deterministic for a given `seed`.
"""

from __future__ import annotations

import hashlib
import io
import random
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faker import Faker

from checkout.accounts import users
from checkout.core.catalog import required_documents
from checkout.core.context import Edge
from checkout.core.db import atomic
from checkout.delivery import approval, storage
from checkout.payments import charges, orders

PREFIX = "seed"
CURRENCIES = (("NGN", 150_000, 2_500_000), ("GHS", 2_000, 40_000), ("KES", 50_000, 900_000),
              ("ZAR", 5_000, 90_000), ("USD", 300, 9_000))
KINDS = {"templates": ("Template", "pdf"), "ebooks": ("Handbook", "pdf"), "fonts": ("Type Family", "zip"),
         "audio": ("Sample Pack", "zip"), "courses": ("Course", "zip"), "graphics": ("Icon Set", "zip")}
BATCH = 500  # orders per transaction
Progress = Callable[[str], None]


def _content(edge: "Edge") -> Path:
    return Path(edge.settings.CONTENT_DIR)


def _images(content: Path, rng: random.Random) -> list[str]:
    """A few cover images (real PNGs), shared by the seeded products."""
    from PIL import Image

    folder = content / "images" / PREFIX
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(12):
        path = folder / f"cover-{i:02d}.png"
        if not path.exists():
            Image.new("RGB", (1200, 800), (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(path)
        names.append(f"images/{PREFIX}/cover-{i:02d}.png")
    return names


def _files(edge: "Edge", fake: Faker) -> list[dict[str, Any]]:
    """Twenty small real files in the edge's storage, each with its size and SHA-256."""
    store = storage.storage(edge)
    out = []
    for i in range(20):
        data = ("\n\n".join(fake.paragraphs(nb=8)) + f"\n\nSample file {i}\n").encode()
        digest = hashlib.sha256(data).hexdigest()
        key = f"sha256/{digest[:2]}/{digest}"
        if store.stat(key) is None:
            store.put(key, io.BytesIO(data))
        out.append({"size": len(data), "sha256": digest, "key": key})
    return out


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_products(edge: "Edge", n: int, seed: int = 21, sellers: int | None = None) -> list[str]:
    """Write `n` products (and their sellers) into CONTENT_DIR; returns their slugs."""
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)
    content = _content(edge)
    (content / "products").mkdir(parents=True, exist_ok=True)
    (content / "sellers").mkdir(parents=True, exist_ok=True)
    images = _images(content, rng)
    files = _files(edge, fake)
    count = sellers or max(1, min(500, n // 20))
    seller_slugs = []
    for s in range(count):
        slug = f"{PREFIX}-seller-{s:04d}"
        currency = CURRENCIES[s % len(CURRENCIES)][0]
        (content / "sellers" / f"{slug}.md").write_text(
            f"---\nname: {_q(fake.company()[:60])}\navatar: {images[s % len(images)]}\npayout_currency: {currency}\n"
            f"location: {_q(fake.city()[:60])}\n---\n{' '.join(fake.paragraphs(nb=2))}\n", "utf-8")
        seller_slugs.append(slug)
    slugs = []
    for i in range(n):
        category = list(KINDS)[i % len(KINDS)]
        noun, ext = KINDS[category]
        words = fake.words(nb=2, unique=True)
        title = f"{' '.join(w.capitalize() for w in words)} {noun}"
        slug = f"{PREFIX}-{i:06d}-{'-'.join(words)}".lower()
        seller = seller_slugs[i % count]
        code, low, high = CURRENCIES[(i % count) % len(CURRENCIES)]
        price = rng.randrange(low, high) // 100 * 100
        f = files[i % len(files)]
        body = "\n\n".join(fake.paragraphs(nb=4))
        (content / "products" / f"{slug}.md").write_text(
            f"---\ntitle: {_q(title)}\nseller: {seller}\ncategory: {category}\ntags: [\"{words[0].lower()}\"]\n"
            f"price: \"{price // 100}.{price % 100:02d}\"\ncurrency: {code}\n"
            f"summary: {_q(fake.sentence(nb_words=14)[:200])}\ncover: {images[i % len(images)]}\n"
            f"files:\n  - name: {slug[:60]}.{ext}\n    size: {f['size']}\n    sha256: {f['sha256']}\n"
            f"    key: {f['key']}\nlicense: \"Personal and commercial use\"\nversion: \"1.0\"\n"
            f"published: {fake.date_between(start_date='-2y', end_date='-1d').isoformat()}\nstatus: published\n---\n"
            f"{body}\n", "utf-8")
        slugs.append(slug)
    return slugs


def build_storefront(edge: "Edge") -> None:
    """The storefront built from CONTENT_DIR into CATALOG_PATH's folder, and the catalogue reloaded."""
    problem = approval.rebuild(edge)
    if problem:
        raise RuntimeError(f"the storefront did not build: {problem}")
    edge.catalog.current()


def make_buyers(edge: "Edge", n: int, seed: int = 21) -> tuple[list[int], str]:
    """`n` verified buyer accounts; returns their ids and their (shared) password."""
    fake = Faker()
    fake.seed_instance(seed + 1)
    password = "demo-" + secrets.token_urlsafe(9)
    pw_hash = edge.hasher.hash(password)
    state = edge.legal()
    docs = [state.legal[s] for s in required_documents("buyer") if s in state.legal]
    start = edge.db.execute("SELECT COUNT(*) FROM users WHERE email LIKE ?", (f"{PREFIX}-buyer-%",)).fetchone()[0]
    ids = []
    with atomic(edge.db):
        for i in range(start, start + n):
            email = f"{PREFIX}-buyer-{i:06d}@example.com"
            ids.append(users.create_user(edge, email, fake.name()[:60], "buyer", pw_hash, docs, verified=True,
                                         send_verification=False, actor_id=0))
    return ids, password


def make_orders(edge: "Edge", n: int, buyer_ids: list[int], slugs: list[str] | None = None, days: int = 90,
                seed: int = 21, progress: Progress | None = None) -> dict[str, int]:
    """`n` paid orders, each through the checkout's and the webhook's own functions."""
    rng = random.Random(seed + 2)
    catalog = edge.catalog.current().products
    slugs = [s for s in (slugs or sorted(catalog)) if s in catalog]
    if not slugs or not buyer_ids:
        raise RuntimeError("seeding orders needs products in the catalogue and buyers")
    buyers = {b: dict(users.get_user(edge, b)) for b in buyer_ids}  # type: ignore[arg-type]
    owned = {(r[0], r[1]) for r in edge.db.execute("SELECT user_id, product_slug FROM purchases WHERE status = 'active'")}
    first_mail = edge.db.execute("SELECT COALESCE(MAX(id), 0) FROM outbox").fetchone()[0]
    clock, saved = edge.clock, edge.clock.offset
    made = skipped = 0
    try:
        for start in range(0, n, BATCH):
            with atomic(edge.db):
                for i in range(start, min(n, start + BATCH)):
                    clock.offset = saved - days * 86400 * (1 - i / max(n, 1)) - rng.random() * 3600
                    buyer = buyers[rng.choice(buyer_ids)]
                    slug = slugs[int(rng.paretovariate(1.2) * 7) % len(slugs)]  # a few products sell most
                    if (buyer["id"], slug) in owned:
                        slug = rng.choice(slugs)
                        if (buyer["id"], slug) in owned:
                            skipped += 1
                            continue
                    order = orders.create_order(edge, buyer, [(slug, None)])
                    fees = min(200_000, order["amount"] * 15 // 1000 + 10_000)
                    outcome = charges.apply_charge(edge, {
                        "id": 10_000_000 + order["id"], "status": "success", "reference": order["reference"],
                        "amount": order["amount"], "currency": order["currency"], "fees": fees,
                        "paid_at": edge.clock.iso()})
                    assert outcome == "paid", outcome
                    owned.add((buyer["id"], slug))
                    made += 1
            if progress:
                progress(f"{made} orders")
    finally:
        clock.offset = saved
    with atomic(edge.db):  # made-up buyers: their receipts are never sent
        unsent = edge.db.execute("DELETE FROM outbox WHERE id > ? AND status = 'pending' AND to_addr LIKE ?",
                                 (first_mail, "%@example.com")).rowcount
    return {"orders": made, "skipped_already_owned": skipped, "emails_not_sent": unsent}
