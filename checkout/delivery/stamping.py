"""Stamped PDFs (issue #18): a seller sets `stamp_pdfs: true` and every page of each PDF a
buyer downloads carries the buyer's email and order number in a footer, and the document's
metadata says the same.

**How**: the stamp is an *incremental update* appended to an unchanged copy of the original
(the way PDF signatures are added): pypdf reads the original lazily (the cross-reference table
and each page's dictionary, never the page contents or images), and we append one font, one
`q` stream, a footer stream per page, each page's dictionary with its `/Contents` array
extended (`[q, original…, footer]`, so nothing the original left in the graphics state moves
the footer), a new document information dictionary and a cross-reference stream whose `/Prev`
is the original's. The original's bytes are copied through in chunks, so memory stays bounded
by the number of pages, not the file's size (`benchmarks/stamp_pdf.py` measures a 500-page,
100 MB file), and any PDF reader shows the stamped version.

**When**: on the first download link a buyer asks for (`prepare`), per purchase and file,
before the link is minted; the copy is kept in storage under `stamped/` and later links serve
it. The stamping itself (`stamp_file`, reading and writing storage) runs in a worker thread;
the database rows are written on the caller's thread (`begin` / `finish`), so the edge's event
loop and its one connection are never held by it.

**Not a PDF** (or encrypted, or unreadable): the original is delivered unstamped, the row says
why (`unstamped`, with a note) and the seller's dashboard lists it (`problems_for_sellers`).
The library shows the original's SHA-256 and says the copy is personalised.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import structlog
from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, TextStringObject

from checkout.core import outbox
from checkout.core.context import Edge
from checkout.core.db import atomic
from digitaldock.storage import Storage, StorageError

log = structlog.get_logger("checkout.delivery.stamping")

FONT_NAME = "/DDStampFont"
PREPARING_SECONDS = 600  # a `preparing` row older than this was left by a crash: stamp again
CHUNK = 1024 * 1024


class NotStampable(Exception):
    """The file cannot be stamped (not a PDF, encrypted, damaged); it is delivered as it is."""


@dataclass(frozen=True)
class Stamp:
    email: str
    order: str

    @property
    def text(self) -> str:
        return f"Licensed to {self.email} - order {self.order} - DigitalDock"


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi (Latin-1 here): parentheses and backslashes escaped,
    anything the font cannot show replaced by '?'."""
    raw = text.encode("latin-1", "replace")
    raw = bytes(ch if 32 <= ch < 127 or ch >= 160 else 63 for ch in raw)
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _serialize(obj: Any) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(body), extra, body)


def _startxref(f: IO[bytes], size: int) -> int:
    f.seek(max(0, size - 2048))
    tail = f.read()
    found = re.findall(rb"startxref\s+(\d+)", tail)
    if not found:
        raise NotStampable("the file has no cross-reference offset (startxref)")
    return int(found[-1])


def stamp(src: Path, dst: Path, mark: Stamp) -> int:
    """Write `src` with `mark` on every page to `dst`; returns the number of pages.

    Raises NotStampable for anything that is not a readable, unencrypted PDF."""
    size = src.stat().st_size
    with open(src, "rb") as f:
        if f.read(5) != b"%PDF-":
            raise NotStampable("the file does not start with %PDF-")
        try:
            reader = PdfReader(f, strict=False)
            if reader.is_encrypted:
                raise NotStampable("the PDF is encrypted")
            prev = _startxref(f, size)
            trailer = reader.trailer
            next_id = int(trailer.get("/Size", 0))
            pages = list(reader.pages)
            if not pages:
                raise NotStampable("the PDF has no pages")
            objects: list[tuple[int, int, bytes]] = []  # (id, generation, body)

            def new_id() -> int:
                nonlocal next_id
                next_id += 1
                return next_id - 1

            font_id, q_id = new_id(), new_id()
            objects.append((font_id, 0, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
                                        b" /Encoding /WinAnsiEncoding >>"))
            objects.append((q_id, 0, _stream(b"q")))
            text = _pdf_string(mark.text)
            for page in pages:
                ref = page.indirect_reference
                if ref is None:
                    raise NotStampable("a page is not an indirect object")
                box = page.mediabox
                x, y = float(box.left) + 18, float(box.bottom) + 10
                footer = (b"Q q BT " + FONT_NAME.encode() + b" 7 Tf 0.4 g %.2f %.2f Td " % (x, y) + text
                          + b" Tj ET Q")
                footer_id = new_id()
                objects.append((footer_id, 0, _stream(footer)))
                d = DictionaryObject({NameObject(k): v for k, v in dict.items(page)})
                contents = dict.get(page, "/Contents")
                if contents is None:
                    existing: list[Any] = []
                else:
                    resolved = contents.get_object()
                    existing = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
                d[NameObject("/Contents")] = ArrayObject([IndirectObject(q_id, 0, reader), *existing,
                                                          IndirectObject(footer_id, 0, reader)])
                resources = page.get("/Resources")
                res = DictionaryObject(dict.items(resources.get_object())) if resources is not None else DictionaryObject()
                fonts = res.get("/Font")
                font_dict = DictionaryObject(dict.items(fonts.get_object())) if fonts is not None else DictionaryObject()
                font_dict[NameObject(FONT_NAME)] = IndirectObject(font_id, 0, reader)
                res[NameObject("/Font")] = font_dict
                d[NameObject("/Resources")] = res
                objects.append((ref.idnum, ref.generation, _serialize(d)))
            info = DictionaryObject()
            old_info = trailer.get("/Info")
            if old_info is not None:
                info.update({NameObject(k): v for k, v in dict.items(old_info.get_object())})
            info[NameObject("/DigitalDockBuyer")] = TextStringObject(mark.email)
            info[NameObject("/DigitalDockOrder")] = TextStringObject(mark.order)
            info[NameObject("/Subject")] = TextStringObject(mark.text)
            info_id = new_id()
            objects.append((info_id, 0, _serialize(info)))
            root = trailer.raw_get("/Root")
            id_pair = trailer.get("/ID")
        except NotStampable:
            raise
        except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                RecursionError) as exc:
            raise NotStampable(f"the PDF could not be read ({type(exc).__name__})") from None
        with open(dst, "wb") as out:
            f.seek(0)
            shutil.copyfileobj(f, out, CHUNK)
            out.write(b"\n")
            offsets: dict[int, tuple[int, int]] = {}
            for obj_id, gen, body in objects:
                offsets[obj_id] = (out.tell(), gen)
                out.write(b"%d %d obj\n" % (obj_id, gen) + body + b"\nendobj\n")
            xref_id = new_id()
            xref_at = out.tell()
            offsets[xref_id] = (xref_at, 0)
            ids = sorted(offsets)
            index, rows = [], []
            run_start = prev_id = None
            for i in ids:
                if run_start is None or i != prev_id + 1:
                    if run_start is not None:
                        index += [run_start, prev_id - run_start + 1]
                    run_start = i
                prev_id = i
                off, gen = offsets[i]
                rows.append(b"\x01" + off.to_bytes(5, "big") + gen.to_bytes(2, "big"))
            index += [run_start, prev_id - run_start + 1]
            first = (id_pair[0].original_bytes if id_pair is not None and len(id_pair) else secrets.token_bytes(16))
            ids_text = b"[<%s> <%s>]" % (first.hex().encode(), secrets.token_hex(16).encode())
            extra = (b" /Type /XRef /W [1 5 2] /Size %d /Index [%s] /Prev %d /Root %d %d R /Info %d 0 R /ID %s"
                     % (next_id, b" ".join(b"%d" % n for n in index), prev, root.idnum, root.generation, info_id,
                        ids_text))
            out.write(b"%d 0 obj\n" % xref_id + _stream(b"".join(rows), extra) + b"\nendobj\n")
            out.write(b"startxref\n%d\n%%%%EOF\n" % xref_at)
    return len(pages)


# --- the records: prepare before a link is minted ----------------------------------------------

def wanted(product: Any, file_name: str) -> bool:
    """Whether this file of this product is to be stamped (the product asks, and it is a PDF by name;
    a file named .pdf that is not one is delivered unstamped with a note)."""
    return bool(getattr(product, "stamp_pdfs", False)) and file_name.lower().endswith(".pdf")


def stamped_key(purchase_id: int, sha256: str, name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:120] or "file.pdf"
    return f"stamped/{purchase_id}/{sha256[:16]}/{safe}"


def begin(edge: Edge, purchase_id: int, sha256: str) -> str:
    """Claim the stamping of this purchase's file: 'go' (stamp it now), 'ready' / 'unstamped'
    (done before), or 'preparing' (another request is at it)."""
    now = edge.clock.iso()
    with atomic(edge.db):
        row = edge.db.execute("SELECT status, updated_at FROM stamped_files WHERE purchase_id = ? AND sha256 = ?",
                              (purchase_id, sha256)).fetchone()
        if row is None:
            edge.db.execute("INSERT INTO stamped_files (purchase_id, sha256, status, created_at, updated_at)"
                            " VALUES (?,?, 'preparing', ?, ?)", (purchase_id, sha256, now, now))
            return "go"
        if row["status"] in ("ready", "unstamped"):
            return str(row["status"])
        if row["status"] == "preparing" and row["updated_at"] > edge.clock.iso(-PREPARING_SECONDS):
            return "preparing"
        edge.db.execute("UPDATE stamped_files SET status = 'preparing', updated_at = ? WHERE purchase_id = ?"
                        " AND sha256 = ?", (now, purchase_id, sha256))
        return "go"


@dataclass(frozen=True)
class Outcome:
    status: str  # ready | unstamped | failed
    key: str | None = None
    sha256: str | None = None
    size: int | None = None
    note: str | None = None
    pages: int = 0


def stamp_file(store: Storage, key: str, out_key: str, mark: Stamp) -> Outcome:
    """Read the original from storage, stamp it, store the copy (no database: a worker thread)."""
    with tempfile.TemporaryDirectory(prefix="dd-stamp-") as tmp:
        local = store.local_path(key)
        src = Path(tmp) / "original.pdf"
        try:
            if local is None:
                with open(src, "wb") as f:
                    for chunk in store.iter_chunks(key):
                        f.write(chunk)
            else:
                src = local
            dst = Path(tmp) / "stamped.pdf"
            try:
                pages = stamp(src, dst, mark)
            except NotStampable as exc:
                return Outcome("unstamped", note=f"Delivered unstamped: {exc}.")
            digest = hashlib.sha256()
            with open(dst, "rb") as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    digest.update(chunk)
            with open(dst, "rb") as f:
                size = store.put(out_key, f)
            return Outcome("ready", out_key, digest.hexdigest(), size, pages=pages)
        except (StorageError, OSError) as exc:
            log.error("stamping_storage_failed", key=key, error=str(exc))
            return Outcome("failed", note="storage")


def finish(edge: Edge, purchase_id: int, sha256: str, outcome: Outcome) -> None:
    """Record the outcome; the first time a file is delivered unstamped, its seller is told why."""
    with atomic(edge.db):
        if outcome.status == "unstamped":
            _tell_seller(edge, purchase_id, sha256, outcome.note or "")
        edge.db.execute("UPDATE stamped_files SET status = ?, storage_key = ?, stamped_sha256 = ?, size = ?, note = ?,"
                        " updated_at = ? WHERE purchase_id = ? AND sha256 = ?",
                        (outcome.status, outcome.key, outcome.sha256, outcome.size, outcome.note, edge.clock.iso(),
                         purchase_id, sha256))
    log.info("pdf_stamped", purchase_id=purchase_id, status=outcome.status, pages=outcome.pages)


def _tell_seller(edge: Edge, purchase_id: int, sha256: str, note: str) -> None:
    told = edge.db.execute("SELECT 1 FROM stamped_files WHERE sha256 = ? AND status = 'unstamped'",
                           (sha256,)).fetchone()
    row = edge.db.execute("SELECT product_slug, seller FROM purchases WHERE id = ?", (purchase_id,)).fetchone()
    if told is not None or row is None:
        return
    product = edge.catalog.current().products.get(row["product_slug"])
    name = next((f.name for f in product.files if f.sha256 == sha256), sha256[:12]) if product else sha256[:12]
    for account in edge.db.execute("SELECT u.id, u.email, u.display_name FROM seller_accounts s JOIN users u"
                                   " ON u.id = s.user_id WHERE s.seller_slug = ?", (row["seller"],)):
        outbox.enqueue(edge, "stamp_skipped", account["email"], account["id"], name=account["display_name"],
                       product=row["product_slug"], file_name=name, note=note)


def served(edge: Edge, purchase_id: int, sha256: str) -> tuple[str, int, str] | None:
    """(storage key, size, SHA-256) of the stamped copy to serve instead of the original, if any."""
    row = edge.db.execute("SELECT storage_key, size, stamped_sha256 FROM stamped_files WHERE purchase_id = ?"
                          " AND sha256 = ? AND status = 'ready'", (purchase_id, sha256)).fetchone()
    return (row["storage_key"], int(row["size"]), row["stamped_sha256"]) if row else None


@dataclass(frozen=True)
class Job:
    purchase_id: int
    sha256: str
    key: str  # the original's storage key
    out_key: str
    mark: Stamp


def job_for(edge: Edge, purchase_id: int, sha256: str, product: Any, file: Any) -> Job | None:
    """What to stamp for this purchase's file (after links.mint checked ownership), or None when
    the product does not ask for stamping or the file is not a PDF by name."""
    if product is None or file is None or not wanted(product, file.name):
        return None
    row = edge.db.execute("SELECT u.email, o.reference FROM purchases p JOIN orders o ON o.id = p.order_id"
                          " JOIN users u ON u.id = p.user_id WHERE p.id = ?", (purchase_id,)).fetchone()
    if row is None:
        return None
    return Job(purchase_id, sha256, file.key, stamped_key(purchase_id, sha256, file.name),
               Stamp(row["email"], row["reference"]))


def problems_for_sellers(edge: Edge, sellers: list[str]) -> list[dict[str, Any]]:
    """Files of these sellers' products delivered unstamped, and why (for the seller's notes)."""
    if not sellers:
        return []
    marks = ",".join("?" * len(sellers))
    return [dict(r) for r in edge.db.execute(
        "SELECT p.product_slug, s.sha256, s.note, MAX(s.updated_at) AS at, COUNT(*) AS n FROM stamped_files s"
        f" JOIN purchases p ON p.id = s.purchase_id WHERE s.status = 'unstamped' AND p.seller IN ({marks})"
        " GROUP BY p.product_slug, s.sha256, s.note ORDER BY at DESC", sellers)]
