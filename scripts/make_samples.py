"""Generate DigitalDock's sample content: product files, covers, gallery images and avatars.

Run from the repository root:

    .venv/bin/python scripts/make_samples.py

Everything is built from code and fixed inputs (no clock, no system fonts, no randomness that
is not seeded by a name), so running it twice gives byte-identical files. Product files go to
content/storage/sha256/<2 hex>/<64 hex>, the storage key `digitaldock.schema.storage_key()`
gives; images go to content/images/. At the end the script prints, as YAML, the name, size,
sha256 and key of every product file, ready to paste into a product's `files:` list.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import struct
import sys
import wave
import zipfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
STORAGE = CONTENT / "storage"
IMAGES = CONTENT / "images"
ZIP_DATE = (2026, 1, 1, 0, 0, 0)
MODIFIED = "2026-01-01T00:00:00Z"


def storage_key(sha256: str) -> str:  # same rule as digitaldock.schema.storage_key
    return f"sha256/{sha256[:2]}/{sha256}"


def write_if_changed(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


# --- a 5x7 bitmap alphabet, used for the fonts and for lettering on images --------------------

GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "D": ("####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "G": (".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"),
    "H": ("#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "I": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "#####"),
    "J": ("..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."),
    "K": ("#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "Q": (".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "V": ("#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "W": ("#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."),
    "X": ("#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"),
    "Y": ("#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."),
    "Z": ("#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("####.", "....#", "....#", ".###.", "....#", "....#", "####."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": (".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    "-": (".....", ".....", ".....", ".###.", ".....", ".....", "....."),
    "&": (".##..", "#..#.", "#.#..", ".#...", "#.#.#", "#..#.", ".##.#"),
    "'": ("..#..", "..#..", ".#...", ".....", ".....", ".....", "....."),
    "!": ("..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."),
    "?": (".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "/": ("....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."),
}
GLYPH_NAMES = {".": "period", ",": "comma", "-": "hyphen", "&": "ampersand", "'": "quotesingle",
               "!": "exclam", "?": "question", ":": "colon", "/": "slash"}
for _d, _n in zip("0123456789", ("zero", "one", "two", "three", "four", "five", "six", "seven",
                                  "eight", "nine")):
    GLYPH_NAMES[_d] = _n


def glyph_runs(ch: str) -> list[tuple[int, int, int]]:
    """The glyph as horizontal runs (row from top, first column, length)."""
    rows = GLYPHS.get(ch.upper())
    if rows is None:
        return []
    runs = []
    for r, row in enumerate(rows):
        c = 0
        while c < 5:
            if row[c] == "#":
                start = c
                while c < 5 and row[c] == "#":
                    c += 1
                runs.append((r, start, c - start))
            else:
                c += 1
    return runs


def draw_text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, px: int, fill) -> None:
    x, y = xy
    for ch in text:
        for r, c, n in glyph_runs(ch):
            draw.rectangle((x + c * px, y + r * px, x + (c + n) * px - 1, y + (r + 1) * px - 1), fill=fill)
        x += 6 * px


def text_width(text: str, px: int) -> int:
    return len(text) * 6 * px - px


def wrap_words(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines


# --- product files ----------------------------------------------------------------------------

def make_zip(entries: dict[str, bytes], stored: tuple[str, ...] = ()) -> bytes:
    """A ZIP with fixed dates and permissions; entries in sorted order unless `stored` come first."""
    buf = io.BytesIO()
    order = list(stored) + sorted(n for n in entries if n not in stored)
    with zipfile.ZipFile(buf, "w") as zf:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name], compresslevel=9 if name not in stored else None)
    return buf.getvalue()


def pdf_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(title: str, author: str, sections: list[tuple[str, list[str]]]) -> bytes:
    """A minimal valid PDF 1.4 with Helvetica text: a title, then headed sections of paragraphs."""
    lines: list[tuple[str, str]] = [("title", title), ("small", f"by {author}"), ("gap", "")]
    for heading, paragraphs in sections:
        lines.append(("head", heading))
        for para in paragraphs:
            for ln in wrap_words(para, 88):
                lines.append(("body", ln))
            lines.append(("gap", ""))
    style = {"title": ("F2", 22, 30), "head": ("F2", 14, 22), "body": ("F1", 11, 15),
             "small": ("F1", 11, 15), "gap": ("F1", 11, 8)}
    pages: list[list[tuple[str, str]]] = [[]]
    y = 770
    for kind, text in lines:
        lead = style[kind][2]
        if y - lead < 60 or (kind == "head" and y - lead < 110):
            pages.append([])
            y = 770
            if kind == "gap":
                continue
        pages[-1].append((kind, text))
        y -= lead
    streams = []
    for number, page in enumerate(pages, 1):
        ops, y = ["BT"], 770
        for kind, text in page:
            font, size, lead = style[kind]
            y -= lead
            if text:
                ops.append(f"/{font} {size} Tf 1 0 0 1 64 {y} Tm ({pdf_escape(text)}) Tj")
        ops.append(f"/F1 9 Tf 1 0 0 1 64 36 Tm ({pdf_escape(title)} - page {number} of {len(pages)}) Tj")
        ops.append("ET")
        streams.append("\n".join(ops).encode("latin-1"))
    n_pages = len(pages)
    # object numbers: 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then page/content pairs
    objs: dict[int, bytes] = {}
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n_pages))
    objs[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objs[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode()
    objs[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    objs[5] = (f"<< /Title ({pdf_escape(title)}) /Author ({pdf_escape(author)}) "
               f"/Producer (DigitalDock sample generator) /CreationDate (D:20260101000000Z) >>").encode("latin-1")
    for i, stream in enumerate(streams):
        p, c = 6 + 2 * i, 7 + 2 * i
        objs[p] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                   f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {c} 0 R >>").encode()
        objs[c] = f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objs[num] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def make_epub(identifier: str, title: str, author: str, chapters: list[tuple[str, list[str]]]) -> bytes:
    files: dict[str, bytes] = {"mimetype": b"application/epub+zip"}
    files["META-INF/container.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">\n'
        '  <rootfiles>\n'
        '    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>\n'
        '  </rootfiles>\n</container>\n').encode()
    files["OEBPS/style.css"] = (b"body { font-family: serif; line-height: 1.5; margin: 1em; }\n"
                                b"h1, h2 { font-family: sans-serif; color: #1f3a5f; }\n")
    manifest, spine, nav = [], [], []
    for i, (heading, paragraphs) in enumerate(chapters, 1):
        name = f"chapter-{i}.xhtml"
        body = "\n".join(f"    <p>{xml_escape(p)}</p>" for p in paragraphs)
        files[f"OEBPS/{name}"] = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
            'xml:lang="en" lang="en">\n'
            f'  <head><title>{xml_escape(heading)}</title>'
            '<link rel="stylesheet" type="text/css" href="style.css"/></head>\n'
            f'  <body>\n  <section epub:type="chapter">\n    <h1>{xml_escape(heading)}</h1>\n'
            f'{body}\n  </section>\n  </body>\n</html>\n').encode()
        manifest.append(f'    <item id="ch{i}" href="{name}" media-type="application/xhtml+xml"/>')
        spine.append(f'    <itemref idref="ch{i}"/>')
        nav.append(f'        <li><a href="{name}">{xml_escape(heading)}</a></li>')
    files["OEBPS/nav.xhtml"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        'xml:lang="en" lang="en">\n'
        f'  <head><title>{xml_escape(title)}</title></head>\n  <body>\n'
        '    <nav epub:type="toc" id="toc">\n      <h1>Contents</h1>\n      <ol>\n'
        + "\n".join(nav) + '\n      </ol>\n    </nav>\n  </body>\n</html>\n').encode()
    files["OEBPS/content.opf"] = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid" xml:lang="en">\n'
        '  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'    <dc:identifier id="bookid">{identifier}</dc:identifier>\n'
        f'    <dc:title>{xml_escape(title)}</dc:title>\n'
        f'    <dc:creator>{xml_escape(author)}</dc:creator>\n'
        '    <dc:language>en</dc:language>\n'
        '    <dc:date>2026-01-01</dc:date>\n'
        f'    <meta property="dcterms:modified">{MODIFIED}</meta>\n'
        '  </metadata>\n  <manifest>\n'
        '    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>\n'
        '    <item id="css" href="style.css" media-type="text/css"/>\n'
        + "\n".join(manifest) + '\n  </manifest>\n  <spine>\n' + "\n".join(spine)
        + '\n  </spine>\n</package>\n').encode()
    return make_zip(files, stored=("mimetype",))


def make_font(family: str, style: str, unit: int, weight: int, mono: bool, slant: int = 0) -> bytes:
    """A TrueType font drawn from the 5x7 bitmap: `unit` font units per pixel."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    upm = 1000
    chars = sorted(GLYPHS)
    names = [".notdef", "space"]
    cmap = {32: "space"}
    for ch in chars:
        name = GLYPH_NAMES.get(ch, ch)
        names.append(name)
        cmap[ord(ch)] = name
        if ch.isalpha():
            lower = ch.lower()
            names.append(lower)
            cmap[ord(ch.lower())] = lower
    pad = unit
    # "weight" thickens each pixel square by extending it sideways
    grow = (weight - 400) * unit // 1600

    def square(pen, x0, y0, x1, y1):
        sh0, sh1 = slant * y0 // 1000, slant * y1 // 1000
        pen.moveTo((x0 + sh0, y0))
        pen.lineTo((x0 + sh1, y1))
        pen.lineTo((x1 + sh1, y1))
        pen.lineTo((x1 + sh0, y0))
        pen.closePath()

    glyphs, metrics = {}, {}
    advance_full = 6 * unit + 2 * pad
    for name in names:
        pen = TTGlyphPen(None)
        if name == ".notdef":
            square(pen, pad, 0, pad + 5 * unit, 7 * unit)
            adv = advance_full
        elif name == "space":
            adv = advance_full if mono else 4 * unit
        else:
            ch = chr(next(c for c in cmap if cmap[c] == name))
            small = ch.isalpha() and ch.islower()
            runs = glyph_runs(ch)
            scale_y = 5 if small else 7  # lowercase: the capital squeezed to x-height
            for r, c, n in runs:
                row_top = 7 - r
                y1 = row_top * unit * scale_y // 7
                y0 = (row_top - 1) * unit * scale_y // 7
                x0 = pad + c * unit - grow
                x1 = pad + (c + n) * unit + grow
                square(pen, x0, y0, x1, y1)
            adv = advance_full
        glyphs[name] = pen.glyph()
        metrics[name] = (adv, 0)
    fb = FontBuilder(upm, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap(cmap)
    fb.setupGlyf(glyphs)
    for name in names:
        coords = glyphs[name].coordinates if glyphs[name].numberOfContours > 0 else []
        metrics[name] = (metrics[name][0], min((x for x, _ in coords), default=0))
    fb.setupHorizontalMetrics(metrics)
    ascent, descent = 7 * unit + 150, -200
    fb.setupHorizontalHeader(ascent=ascent, descent=descent)
    fb.setupNameTable({
        "familyName": family,
        "styleName": style,
        "uniqueFontIdentifier": f"DigitalDockSamples:{family}-{style}:1.000",
        "fullName": f"{family} {style}",
        "psName": f"{family.replace(' ', '')}-{style}",
        "version": "Version 1.000",
        "copyright": "Copyright 2026 DigitalDock sample content",
        "licenseDescription": "Sample font generated for the DigitalDock demo catalogue.",
    })
    fb.setupOS2(sTypoAscender=ascent, sTypoDescender=descent, usWinAscent=ascent,
                usWinDescent=-descent, usWeightClass=weight, achVendID="DDCK")
    fb.setupPost(isFixedPitch=1 if mono else 0)
    stamp = 3850214400  # 2026-01-01T00:00:00Z in seconds since 1904-01-01
    fb.setupHead(unitsPerEm=upm, created=stamp, modified=stamp, fontRevision=1.0)
    fb.font.recalcTimestamp = False
    buf = io.BytesIO()
    fb.save(buf)
    return buf.getvalue()


def make_wav(notes: list[tuple[list[float], float]], rate: int = 22050, volume: float = 0.3,
             noise: float = 0.0, seed: str = "") -> bytes:
    """Mono 16-bit PCM: each note is (frequencies, seconds), with a short attack and decay."""
    rng = random.Random(seed)
    frames = bytearray()
    for freqs, seconds in notes:
        n = int(rate * seconds)
        for i in range(n):
            t = i / rate
            env = min(1.0, i / (0.01 * rate)) * math.exp(-3.0 * t / seconds)
            v = 0.0
            for f in freqs:
                v += math.sin(2 * math.pi * f * t) + 0.3 * math.sin(4 * math.pi * f * t)
            v = v / (1.3 * max(1, len(freqs))) * env * volume
            if noise:
                v += (rng.random() * 2 - 1) * noise
            frames += struct.pack("<h", max(-32767, min(32767, int(round(v * 32767)))))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def midi(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def chord(*notes: int) -> list[float]:
    return [midi(n) for n in notes]


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# --- palettes and images --------------------------------------------------------------------

PALETTES = {
    # background, primary, secondary, accent, ink
    "templates": ("#f4efe6", "#1f3a5f", "#e07a5f", "#81b29a", "#14213d"),
    "ebooks": ("#fbf5e9", "#7b2d26", "#d9a441", "#3d5a40", "#2b1d14"),
    "fonts": ("#111111", "#f2f2f2", "#ffb400", "#e4572e", "#f2f2f2"),
    "audio": ("#1b1035", "#ff6f59", "#43aa8b", "#ffd166", "#f7f7ff"),
    "courses": ("#eaf4f4", "#255f85", "#f6ae2d", "#86bbd8", "#0b2545"),
    "graphics": ("#fff8f0", "#2a9d8f", "#e76f51", "#f4a261", "#264653"),
}


KINDS = {"templates": (1, 0, 2), "ebooks": (2, 0, 1), "fonts": (1, 2, 0), "audio": (3, 0, 3),
         "courses": (0, 1, 2), "graphics": (2, 0, 1)}


def hex_rgb(h: str) -> tuple[int, int, int]:
    return tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))


def compose(size: tuple[int, int], category: str, seed: str, title: str = "", subtitle: str = "",
            variant: int = 0, kind: int | None = None) -> Image.Image:
    """A flat geometric composition in the category's palette, with optional pixel lettering."""
    bg, c1, c2, c3, ink = (hex_rgb(c) for c in PALETTES[category])
    w, h = size
    rng = random.Random(f"{seed}:{variant}")
    img = Image.new("RGB", size, bg)
    d = ImageDraw.Draw(img)
    if kind is None:  # each category has its own favourite compositions
        kind = KINDS[category][(variant + len(seed)) % 3]
    if kind == 0:  # large circles
        for _ in range(5):
            r = rng.randint(h // 6, h // 2)
            x, y = rng.randint(0, w), rng.randint(0, h)
            d.ellipse((x - r, y - r, x + r, y + r), fill=rng.choice((c1, c2, c3)))
    elif kind == 1:  # stripes and a block
        for i in range(0, w + h, 120):
            d.polygon([(i, 0), (i + 60, 0), (i + 60 - h, h), (i - h, h)], fill=c3)
        d.rectangle((w // 8, h // 6, w * 5 // 8, h * 5 // 6), fill=c1)
        d.ellipse((w // 2, h // 4, w // 2 + h // 2, h * 3 // 4), fill=c2)
    elif kind == 2:  # grid of tiles (a pattern sheet)
        step = max(40, w // 10)
        for gy in range(0, h, step):
            for gx in range(0, w, step):
                pick = rng.randint(0, 4)
                box = (gx + 6, gy + 6, gx + step - 6, gy + step - 6)
                if pick == 0:
                    d.ellipse(box, fill=c1)
                elif pick == 1:
                    d.rectangle(box, fill=c2)
                elif pick == 2:
                    d.polygon([(box[0], box[3]), ((box[0] + box[2]) // 2, box[1]), (box[2], box[3])], fill=c3)
                elif pick == 3:
                    d.rectangle((box[0], (box[1] + box[3]) // 2 - 4, box[2], (box[1] + box[3]) // 2 + 4), fill=c1)
    else:  # waveform bars
        bw = max(10, w // 48)
        bars = w // bw
        for i in range(bars):
            amp = int((0.25 + 0.75 * abs(math.sin(i * 0.37 + len(seed)))) * h * 0.35 * (0.6 + 0.4 * rng.random()))
            d.rectangle((i * bw + 3, h // 2 - amp, (i + 1) * bw - 3, h // 2 + amp), fill=(c1, c2, c3)[i % 3])
    if title:
        # a solid panel keeps the lettering readable over any composition
        px = max(4, min(12, (w - 160) // (6 * max(1, min(len(title), 22)))))
        lines = wrap_words(title.upper(), max(6, (w - 160) // (6 * px)))[:3]
        sub_px = max(3, px // 2)
        panel_h = len(lines) * 9 * px + (9 * sub_px if subtitle else 0) + 80
        top = h - panel_h - h // 10
        d.rectangle((w // 16, top, w - w // 16, top + panel_h), fill=bg)
        d.rectangle((w // 16, top, w // 16 + 14, top + panel_h), fill=c2)
        y = top + 40
        for line in lines:
            draw_text(d, (w // 16 + 50, y), line, px, ink)
            y += 9 * px
        if subtitle:
            draw_text(d, (w // 16 + 50, y + 4), subtitle.upper(), sub_px, c1 if category != "fonts" else c2)
    return img


def avatar(seed: str, category: str, initials: str) -> Image.Image:
    bg, c1, c2, c3, ink = (hex_rgb(c) for c in PALETTES[category])
    img = Image.new("RGB", (256, 256), c1)
    d = ImageDraw.Draw(img)
    d.ellipse((-60, 140, 180, 380), fill=c2)
    d.ellipse((150, -70, 330, 110), fill=c3)
    px = 12
    tw = text_width(initials, px)
    d.rectangle((128 - tw // 2 - 18, 128 - 7 * px // 2 - 18, 128 + tw // 2 + 18, 128 + 7 * px // 2 + 18), fill=bg)
    draw_text(d, (128 - tw // 2, 128 - 7 * px // 2), initials, px, ink)
    return img


def icon_svg(kind: str, color: str) -> str:
    shapes = {
        "sun": f'<circle cx="32" cy="32" r="12" fill="{color}"/>' + "".join(
            f'<rect x="30" y="4" width="4" height="10" rx="2" fill="{color}" transform="rotate({a} 32 32)"/>'
            for a in range(0, 360, 45)),
        "acacia": f'<ellipse cx="32" cy="20" rx="26" ry="9" fill="{color}"/>'
                  f'<rect x="29" y="24" width="6" height="34" fill="{color}"/>'
                  f'<path d="M32 40 L18 26 M32 36 L46 26" stroke="{color}" stroke-width="4"/>',
        "baobab": f'<circle cx="20" cy="16" r="9" fill="{color}"/><circle cx="44" cy="16" r="9" fill="{color}"/>'
                  f'<path d="M22 60 Q26 30 20 22 H44 Q38 30 42 60 Z" fill="{color}"/>',
        "giraffe": f'<path d="M20 60 V34 H40 L44 8 H52 V14 L48 16 L46 40 V60 H40 V44 H26 V60 Z" fill="{color}"/>',
        "hut": f'<path d="M8 30 L32 8 L56 30 Z" fill="{color}"/><rect x="14" y="30" width="36" height="26" fill="{color}"/>'
               f'<rect x="28" y="40" width="8" height="16" fill="#ffffff"/>',
        "drum": f'<ellipse cx="32" cy="14" rx="16" ry="6" fill="{color}"/>'
                f'<path d="M16 14 L22 58 H42 L48 14 Z" fill="{color}" opacity="0.85"/>',
        "mountain": f'<path d="M4 56 L24 20 L34 36 L42 26 L60 56 Z" fill="{color}"/>',
        "water": "".join(f'<path d="M6 {y} q8 -6 16 0 t16 0 t16 0" fill="none" stroke="{color}" stroke-width="4"/>'
                         for y in (22, 34, 46)),
    }
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
            f'{shapes[kind]}</svg>\n')


def icon_png(kind: str, color: tuple[int, int, int], size: int = 128) -> bytes:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = size / 64
    if kind == "sun":
        d.ellipse((20 * s, 20 * s, 44 * s, 44 * s), fill=color)
        for a in range(0, 360, 45):
            x, y = 32 + 22 * math.cos(math.radians(a)), 32 + 22 * math.sin(math.radians(a))
            d.ellipse(((x - 3) * s, (y - 3) * s, (x + 3) * s, (y + 3) * s), fill=color)
    elif kind == "mountain":
        d.polygon([(4 * s, 56 * s), (24 * s, 20 * s), (34 * s, 36 * s), (42 * s, 26 * s), (60 * s, 56 * s)], fill=color)
    elif kind == "hut":
        d.polygon([(8 * s, 30 * s), (32 * s, 8 * s), (56 * s, 30 * s)], fill=color)
        d.rectangle((14 * s, 30 * s, 50 * s, 56 * s), fill=color)
    else:
        d.rounded_rectangle((10 * s, 10 * s, 54 * s, 54 * s), radius=10 * s, fill=color)
    return png_bytes(img)


def pattern_svg(name: str, fg: str, bg: str, motif: str) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" width="200" height="200">'
            f'<defs><pattern id="{name}" width="40" height="40" patternUnits="userSpaceOnUse">{motif}</pattern></defs>'
            f'<rect width="200" height="200" fill="{bg}"/><rect width="200" height="200" fill="url(#{name})"/>'
            '</svg>\n')


# --- the sample files -------------------------------------------------------------------------

LANDING_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Kente Landing Page</title>
  <link rel="stylesheet" href="css/style.css">
</head>
<body>
  <header class="hero">
    <nav><a class="logo" href="#">Your Brand</a><a href="#features">Features</a><a href="#pricing">Pricing</a></nav>
    <h1>Launch something people remember.</h1>
    <p>A fast, accessible one-page site with a bold woven-stripe header. Replace this text with your promise.</p>
    <a class="button" href="#pricing">Get started</a>
  </header>
  <section id="features" class="grid">
    <article><h2>Fast</h2><p>No framework, no build step: one HTML file and one stylesheet.</p></article>
    <article><h2>Accessible</h2><p>Semantic landmarks, visible focus states and AA colour contrast.</p></article>
    <article><h2>Yours</h2><p>Colours live in CSS custom properties at the top of style.css.</p></article>
  </section>
  <section id="pricing" class="pricing">
    <h2>Simple pricing</h2>
    <p><strong>$0</strong> to try, <strong>$9/month</strong> when you grow.</p>
  </section>
  <footer><p>&copy; 2026 Your Brand</p></footer>
</body>
</html>
"""

LANDING_CSS = """:root {
  --ink: #14213d;
  --paper: #f4efe6;
  --gold: #e9a23b;
  --green: #3d7a4f;
  --red: #b23a48;
}
* { box-sizing: border-box; }
body { margin: 0; font: 18px/1.6 system-ui, sans-serif; color: var(--ink); background: var(--paper); }
.hero {
  padding: 4rem 1.5rem 5rem;
  background: repeating-linear-gradient(90deg, var(--gold) 0 40px, var(--green) 40px 60px, var(--red) 60px 80px, var(--ink) 80px 90px);
  color: #fff;
}
.hero h1 { font-size: clamp(2rem, 6vw, 4rem); max-width: 14ch; background: var(--ink); padding: .2em .4em; }
.hero p { max-width: 40ch; background: rgba(20, 33, 61, .85); padding: .5em 1em; }
nav { display: flex; gap: 1.5rem; margin-bottom: 3rem; }
nav a { color: #fff; font-weight: 600; }
.logo { margin-right: auto; }
.button { display: inline-block; padding: .8em 1.6em; background: var(--paper); color: var(--ink); font-weight: 700; border-radius: 6px; }
.button:focus-visible, a:focus-visible { outline: 3px solid var(--gold); outline-offset: 3px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 2rem; padding: 4rem 1.5rem; max-width: 70rem; margin: auto; }
.pricing { text-align: center; padding: 3rem 1.5rem; background: #fff; }
footer { text-align: center; padding: 2rem; font-size: .9rem; }
"""

INVOICE_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Invoice INV-0001</title>
  <link rel="stylesheet" href="invoice.css">
</head>
<body>
  <main class="invoice">
    <header>
      <h1>Invoice</h1>
      <dl><dt>Number</dt><dd>INV-0001</dd><dt>Date</dt><dd>1 March 2026</dd><dt>Due</dt><dd>15 March 2026</dd></dl>
    </header>
    <section class="parties">
      <div><h2>From</h2><p>Your Studio<br>12 Long Street<br>Cape Town 8001</p></div>
      <div><h2>Bill to</h2><p>Client Name<br>Client Company<br>City</p></div>
    </section>
    <table>
      <thead><tr><th>Description</th><th>Qty</th><th>Rate</th><th>Amount</th></tr></thead>
      <tbody>
        <tr><td>Brand identity design</td><td>1</td><td>R 8,500.00</td><td>R 8,500.00</td></tr>
        <tr><td>Social media templates</td><td>6</td><td>R 450.00</td><td>R 2,700.00</td></tr>
      </tbody>
      <tfoot>
        <tr><td colspan="3">Subtotal</td><td>R 11,200.00</td></tr>
        <tr><td colspan="3">VAT 15%</td><td>R 1,680.00</td></tr>
        <tr class="total"><td colspan="3">Total due</td><td>R 12,880.00</td></tr>
      </tfoot>
    </table>
    <footer><p>Pay by EFT to: Your Bank, account 000000000, reference INV-0001. Thank you!</p></footer>
  </main>
</body>
</html>
"""

INVOICE_CSS = """@page { size: A4; margin: 18mm; }
body { font: 11pt/1.5 Georgia, serif; color: #222; }
.invoice { max-width: 180mm; margin: auto; }
header { display: flex; justify-content: space-between; border-bottom: 4px solid #1f3a5f; }
h1 { font: 700 28pt/1 system-ui, sans-serif; color: #1f3a5f; }
dl { display: grid; grid-template-columns: auto auto; gap: 0 1em; }
dt { font-weight: 700; }
.parties { display: flex; gap: 4em; margin: 2em 0; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: .5em; border-bottom: 1px solid #ddd; text-align: left; }
td:last-child, th:last-child { text-align: right; }
.total td { font-weight: 700; border-top: 2px solid #1f3a5f; }
@media print { a { color: inherit; text-decoration: none; } }
"""


def readme(title: str, lines: list[str]) -> bytes:
    return (f"{title}\n{'=' * len(title)}\n\n" + "\n".join(lines) + "\n").encode()


PDFS: dict[str, tuple[str, str, list[tuple[str, list[str]]]]] = {
    "pricing-guide.pdf": ("Pricing Your Creative Work", "Harmattan Press", [
        ("1. Start from the hours, not the market", [
            "Most first-time sellers look at what others charge and undercut them by a little. That tells you what the market tolerates, not what your work costs you. Begin with the hours: how long did the product take to make, test and describe, and how long will support take over the next year?",
            "Divide that time by the number of sales you can honestly expect in the first twelve months. If a font took 120 hours and you expect 60 licences, each licence carries two hours of your time before it carries any profit.",
        ]),
        ("2. Price the outcome for the buyer", [
            "A landing page template that saves a freelancer two days of work is worth far more than the same template to a student practising HTML. Write down who buys, what they would otherwise do, and what that alternative costs them. Your price should sit comfortably below that alternative.",
            "When you cannot decide between two buyers, offer two licences: a personal licence at a low price and a commercial licence at three to five times as much.",
        ]),
        ("3. Local currency matters", [
            "A price of 20 US dollars reads very differently in Lagos, Accra, Nairobi and Cape Town. Listing in naira, cedis, shillings or rand removes the exchange-rate guesswork for local buyers and avoids card declines on foreign-currency charges.",
            "Round to numbers people use: 7,500 naira, 60 cedis, 149 rand, 650 shillings. Avoid prices that look like a conversion.",
        ]),
        ("4. When pay-what-you-want works", [
            "Pay-what-you-want works for products that spread by word of mouth: sample packs, starter templates, short guides. Set a minimum that covers the payment fee and a suggested price that reflects the real value. Most buyers pay the suggestion; a few pay more.",
        ]),
        ("5. Review every quarter", [
            "Look at views, sales and refunds every three months. If many people view but few buy, the price or the description is wrong. If nobody asks for a refund and sales are steady, you are probably too cheap.",
        ]),
    ]),
    "shipping-guide.pdf": ("Shipping Digital Products from Africa", "Harmattan Press", [
        ("Introduction", [
            "This handbook is for makers in West, East and Southern Africa who want to sell files online: templates, books, sounds, fonts and courses. It covers payments, packaging, support and the paperwork that comes with earning money from buyers in other countries.",
        ]),
        ("Chapter 1: Getting paid", [
            "Card payments through a local processor let buyers pay in naira, cedis, shillings or rand, and let you receive payouts into a local bank account. Check which currencies your processor settles in, what it charges per transaction, and how long settlement takes.",
            "Keep a simple spreadsheet of every sale: date, product, currency, gross amount, fee and payout. It is the record your accountant will ask for.",
        ]),
        ("Chapter 2: Packaging files", [
            "Buyers download on mobile data more often than you think. Keep archives small, name files clearly, and put a short README in every ZIP that says what is inside and how to use it.",
            "Test every download on a slow connection and on a phone before you publish.",
        ]),
        ("Chapter 3: Support and refunds", [
            "Answer questions within two working days. Most refund requests are really support requests: a missing font file, a broken link, a licence question. A fast, friendly reply saves the sale.",
        ]),
        ("Chapter 4: Tax basics", [
            "Income from digital sales is taxable where you live. Some buyers' countries also charge VAT or GST on digital goods. Register where you have to, keep records for at least six years, and ask a local accountant once a year.",
        ]),
    ]),
    "kiswahili-phrasebook.pdf": ("Illustrated Kiswahili Phrasebook", "Wanjiku Mwangi", [
        ("Greetings - Salamu", [
            "Jambo - Hello (used with visitors). Habari? - How are you? (literally: what news?). Nzuri - Fine, good. Shikamoo - a respectful greeting to an elder; the reply is Marahaba.",
            "Karibu - Welcome, you are welcome. Asante - Thank you. Asante sana - Thank you very much.",
        ]),
        ("At the market - Sokoni", [
            "Bei gani? - How much? Ni ghali sana - It is very expensive. Punguza kidogo - Lower it a little. Nataka hii - I want this one.",
            "Numbers: moja (1), mbili (2), tatu (3), nne (4), tano (5), sita (6), saba (7), nane (8), tisa (9), kumi (10), mia (100), elfu (1,000).",
        ]),
        ("Getting around - Kusafiri", [
            "Matatu - shared minibus. Simama hapa - Stop here. Ni mbali? - Is it far? Pole pole - Slowly, take it easy.",
        ]),
        ("Food - Chakula", [
            "Chai - tea. Maji - water. Chapati, ugali, sukuma wiki, nyama choma - flatbread, maize porridge, collard greens, grilled meat. Chakula ni kitamu - The food is delicious.",
        ]),
    ]),
    "lagos-grotesk-specimen.pdf": ("Lagos Grotesk - Type Specimen", "Adire Type Foundry", [
        ("About the family", [
            "Lagos Grotesk is a geometric grotesque drawn on a strict grid, inspired by hand-painted shop signs on Broad Street and the stencilled lettering on danfo buses. It is built for signage, posters and interfaces where letters must read at a glance.",
        ]),
        ("Character set", [
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 . , - & ' ! ? : /",
        ]),
        ("Setting tips", [
            "Set headlines with slightly open tracking (+20 to +40). For body text above 16 pixels, keep default tracking. The grid-based forms align to a 100-unit module, so icons and rules drawn on the same module sit comfortably with the type.",
        ]),
        ("Licence summary", [
            "The standard licence covers desktop use on up to five computers, web embedding on unlimited sites you own, and use in logos and commercial print. Apps and games need an extended licence.",
        ]),
    ]),
    "music-production-workbook.pdf": ("Music Production Basics - Workbook", "Osu Sound Lab", [
        ("Module 1: Your first session", [
            "Open the session template from the project files and set the tempo to 104 BPM, a comfortable highlife groove. Create four tracks: drums, bass, guitar and keys. Name and colour them before you record anything.",
            "Exercise: program a two-bar pattern with kick on beats one and three, and a clave pattern on top. Export it as a WAV file.",
        ]),
        ("Module 2: Chords and the highlife guitar", [
            "The highlife guitar plays short, bright chord fragments in the upper register. Listen to the C major and F major voicings in the loops folder and write down which strings ring.",
            "Exercise: record an eight-bar guitar part over your drum pattern, using only the I, IV and V chords.",
        ]),
        ("Module 3: Mixing with intent", [
            "Set levels before reaching for effects. The kick and bass share the low end: cut the bass a little around the kick's fundamental, or side-chain it. Pan the guitar slightly left and the keys slightly right.",
        ]),
        ("Module 4: Exporting and sharing", [
            "Export at 44.1 kHz, 24-bit for masters and 16-bit for sharing. Leave at least one decibel of headroom. Name files with the song title, tempo and key so collaborators know what they are opening.",
        ]),
    ]),
    "illustration-workbook.pdf": ("Illustration for Beginners - Workbook", "Wanjiku Mwangi", [
        ("Lesson 1: Shapes before details", [
            "Every illustration in this course starts from three shapes: a circle, a square and a triangle. Draw ten animals from the Nairobi National Park using only those shapes, without lifting your pencil for more than a second.",
        ]),
        ("Lesson 2: A limited palette", [
            "Choose four colours: a light background, a dark line colour and two accents. Repaint one of your shape animals with only those four. Limits make decisions easier and results more consistent.",
        ]),
        ("Lesson 3: From paper to vector", [
            "Photograph your sketch in daylight, place it in your vector app, lower its opacity and trace with the pen tool. Use as few anchor points as you can: smooth curves need fewer points than you think.",
        ]),
        ("Lesson 4: Building a small set", [
            "Turn five illustrations into a consistent set: the same stroke width, the same corner radius, the same palette. Export each as SVG and as a 512-pixel PNG.",
        ]),
    ]),
    "storefront-course-workbook.pdf": ("Build Your First Storefront - Workbook", "Bo-Kaap Digital Studio", [
        ("Week 1: Decide what you sell", [
            "Write one sentence for each product: who it is for, what it does, and what it replaces. If you cannot write the sentence, the product is not ready to sell.",
        ]),
        ("Week 2: Pages that sell", [
            "Start from the landing page template in the project files. Replace the headline with your one-sentence promise, add three features that matter to your buyer, and show the price plainly.",
        ]),
        ("Week 3: Images and previews", [
            "Make a cover at 1200 by 800 pixels and two gallery images that show the product in use. Buyers trust screenshots more than adjectives.",
        ]),
        ("Week 4: Launch and learn", [
            "Publish, tell twenty people directly, and watch what they ask. Every question is a sentence missing from your description.",
        ]),
    ]),
}

EPUBS = {
    "pricing-guide.epub": ("urn:uuid:6f1c2a4e-8b1d-4c5e-9a0f-2d3b4c5d6e7f", "pricing-guide.pdf"),
    "shipping-guide.epub": ("urn:uuid:1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", "shipping-guide.pdf"),
}


def build_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for name, (title, author, sections) in PDFS.items():
        files[name] = make_pdf(title, author, sections)
    for name, (ident, pdf) in EPUBS.items():
        title, author, sections = PDFS[pdf]
        files[name] = make_epub(ident, title, author, sections)

    files["landing-page.zip"] = make_zip({
        "kente-landing/index.html": LANDING_HTML.encode(),
        "kente-landing/css/style.css": LANDING_CSS.encode(),
        "kente-landing/README.txt": readme("Kente Landing Page", [
            "Open index.html in a browser to preview.",
            "Edit the colours at the top of css/style.css (the :root block).",
            "No build step and no dependencies: upload both files to any static host.",
        ]),
    })
    files["invoice-kit.zip"] = make_zip({
        "invoice-kit/invoice.html": INVOICE_HTML.encode(),
        "invoice-kit/invoice.css": INVOICE_CSS.encode(),
        "invoice-kit/README.txt": readme("Freelancer Invoice Kit", [
            "Open invoice.html, replace the sample details and print to PDF (A4).",
            "Amounts are plain text: update the subtotal, VAT and total yourself.",
        ]),
    })

    rate = 22050
    highlife = [(chord(72, 76, 79), 0.25), (chord(72, 77, 81), 0.25), (chord(71, 74, 79), 0.25),
                (chord(72, 76, 79), 0.25), (chord(76), 0.125), (chord(74), 0.125), (chord(72), 0.25),
                (chord(67, 72, 76), 0.5)]
    files["highlife-preview.wav"] = make_wav(highlife, rate)
    files["market-ambience.wav"] = make_wav([(chord(55), 0.5), (chord(62), 0.5), (chord(57), 0.5)],
                                            rate, volume=0.15, noise=0.05, seed="market")
    lofi = [(chord(57, 60, 64, 67), 0.5), (chord(53, 57, 60, 64), 0.5), (chord(55, 59, 62, 65), 0.5),
            (chord(52, 55, 59, 62), 0.5)]
    files["lofi-beat.wav"] = make_wav(lofi, rate, volume=0.25)
    loop_c = make_wav([(chord(72, 76, 79), 0.25), (chord(72, 76, 79), 0.25), (chord(77, 81, 84), 0.5)], rate)
    loop_f = make_wav([(chord(77, 81, 84), 0.25), (chord(79, 83, 86), 0.25), (chord(72, 76, 79), 0.5)], rate)
    files["highlife-loops.zip"] = make_zip({
        "highlife-loops/guitar-C-104bpm.wav": loop_c,
        "highlife-loops/guitar-F-104bpm.wav": loop_f,
        "highlife-loops/README.txt": readme("Highlife Guitar Loops", [
            "16-bit mono WAV, 22.05 kHz, 104 BPM. Key in the file name.",
            "Royalty-free for use in your own releases, beats and videos.",
            "You may not resell or redistribute the loops on their own.",
        ]),
    })

    files["lagos-grotesk.ttf"] = make_font("Lagos Grotesk", "Regular", 100, 400, False)
    files["adire-display.ttf"] = make_font("Adire Display", "Bold", 120, 800, False, slant=120)
    files["eko-mono.ttf"] = make_font("Eko Mono", "Regular", 90, 400, True)

    teal, coral, sand, navy = "#2a9d8f", "#e76f51", "#f4a261", "#264653"
    kinds = ("sun", "acacia", "baobab", "giraffe", "hut", "drum", "mountain", "water")
    icons: dict[str, bytes] = {}
    for i, kind in enumerate(kinds):
        icons[f"savanna-icons/svg/{kind}.svg"] = icon_svg(kind, (teal, coral, navy, sand)[i % 4]).encode()
    for kind in ("sun", "mountain", "hut"):
        icons[f"savanna-icons/png/{kind}-128.png"] = icon_png(kind, hex_rgb(navy))
    icons["savanna-icons/README.txt"] = readme("Savanna Icon Set", [
        "SVG icons on a 64 x 64 grid; PNG exports at 128 px.",
        "Change the colour by editing the fill attribute, or set fill to currentColor.",
    ])
    files["savanna-icons.zip"] = make_zip(icons)

    motifs = {
        "gye-nyame": '<circle cx="20" cy="20" r="8" fill="{fg}"/><rect x="18" y="2" width="4" height="36" fill="{fg}"/>',
        "sankofa": '<path d="M20 4 C36 4 36 24 20 24 C8 24 10 12 18 14" fill="none" stroke="{fg}" stroke-width="4"/>',
        "dwennimmen": '<path d="M4 4 L20 20 L36 4 M4 36 L20 20 L36 36" fill="none" stroke="{fg}" stroke-width="4"/>',
        "nkyinkyim": '<path d="M0 10 H10 V30 H20 V10 H30 V30 H40" fill="none" stroke="{fg}" stroke-width="4"/>',
    }
    patterns: dict[str, bytes] = {}
    colours = [("#7b2d26", "#f3e2c7"), ("#264653", "#e9c46a"), ("#3d5a40", "#f4efe6"), ("#14213d", "#e07a5f")]
    for (name, motif), (fg, bg) in zip(motifs.items(), colours):
        patterns[f"adinkra-patterns/svg/{name}.svg"] = pattern_svg(name, fg, bg, motif.format(fg=fg)).encode()
        tile = compose((256, 256), "graphics", name, kind=2)
        patterns[f"adinkra-patterns/png/{name}-256.png"] = png_bytes(tile.quantize(8))
    patterns["adinkra-patterns/README.txt"] = readme("Adinkra Pattern Pack", [
        "Seamless SVG patterns (tile size 40 x 40) and 256 px PNG swatches.",
        "Each pattern is named after the Adinkra symbol that inspired it.",
    ])
    files["adinkra-patterns.zip"] = make_zip(patterns)

    mock: dict[str, bytes] = {}
    for i, name in enumerate(("phone-screen", "laptop-screen", "poster-a3")):
        img = compose((480, 320), "templates", name, variant=i + 1)
        d = ImageDraw.Draw(img)
        d.rounded_rectangle((150, 40, 330, 280) if i != 1 else (80, 40, 400, 240), radius=14,
                            fill=(255, 255, 255), outline=(20, 33, 61), width=6)
        mock[f"cape-town-mockups/{name}.png"] = png_bytes(img.quantize(16))
    mock["cape-town-mockups/README.txt"] = readme("Cape Town Mockup Pack", [
        "Flat PNG mockups at 480 x 320. The white area is the screen: place your design there.",
        "Photographs and layered PSD versions are available in the full pack.",
    ])
    files["mockup-pack.zip"] = make_zip(mock)
    return files


# --- images: covers, galleries, avatars -------------------------------------------------------

# (slug, category, title, subtitle, gallery count)
PRODUCTS = [
    ("kente-landing-page-template", "templates", "Kente Landing Page", "HTML and CSS template", 2),
    ("freelancer-invoice-kit", "templates", "Freelancer Invoice Kit", "Print-ready HTML", 2),
    ("portfolio-one-pager", "templates", "Portfolio One-Pager", "HTML template", 1),
    ("pricing-your-creative-work", "ebooks", "Pricing Your Creative Work", "PDF and EPUB", 2),
    ("shipping-digital-products-from-africa", "ebooks", "Shipping Digital Products", "A handbook", 2),
    ("illustrated-kiswahili-phrasebook", "ebooks", "Kiswahili Phrasebook", "Illustrated PDF", 1),
    ("lagos-grotesk", "fonts", "Lagos Grotesk", "Aa Bb Cc 0123", 3),
    ("adire-display", "fonts", "Adire Display", "Bold italic display", 2),
    ("eko-mono", "fonts", "Eko Mono", "Monospace", 1),
    ("highlife-guitar-loops", "audio", "Highlife Guitar Loops", "104 BPM", 2),
    ("accra-market-ambience", "audio", "Accra Market Ambience", "Field recording", 1),
    ("afro-lofi-beats", "audio", "Afro Lo-Fi Beats", "Pay what you want", 2),
    ("music-production-basics", "courses", "Music Production Basics", "Four modules", 2),
    ("illustration-for-beginners", "courses", "Illustration for Beginners", "Four lessons", 2),
    ("build-your-first-storefront", "courses", "Build Your First Storefront", "Four weeks", 1),
    ("savanna-icon-set", "graphics", "Savanna Icon Set", "SVG and PNG", 3),
    ("adinkra-pattern-pack", "graphics", "Adinkra Pattern Pack", "Seamless patterns", 2),
    ("cape-town-mockup-pack", "graphics", "Cape Town Mockups", "Device and poster", 2),
]

SELLERS = [
    ("adire-type-foundry", "fonts", "AT"),
    ("osu-sound-lab", "audio", "OS"),
    ("bo-kaap-studio", "templates", "BK"),
    ("wanjiku-mwangi", "graphics", "WM"),
    ("harmattan-press", "ebooks", "HP"),
]


def build_images() -> dict[str, bytes]:
    images: dict[str, bytes] = {}
    for slug, category, title, subtitle, gallery in PRODUCTS:
        cover = compose((1200, 800), category, slug, title, subtitle)
        images[f"products/{slug}-cover.png"] = png_bytes(cover.quantize(16))
        for n in range(1, gallery + 1):
            img = compose((1200, 800), category, slug, variant=n)
            if category == "fonts":  # a specimen sheet drawn with the same pixel alphabet
                d = ImageDraw.Draw(img)
                d.rectangle((60, 60, 1140, 740), fill=hex_rgb(PALETTES["fonts"][0]))
                sample = ["ABCDEFGHIJKLM", "NOPQRSTUVWXYZ", "0123456789 &?!"] if n == 1 else \
                         ["SIGN PAINTERS", "OF BROAD ST.", "SINCE 1961"]
                for i, line in enumerate(sample):
                    draw_text(d, (110, 130 + i * 200), line, 12, hex_rgb(PALETTES["fonts"][1 + i % 3]))
            images[f"products/{slug}-{n}.png"] = png_bytes(img.quantize(16))
    for slug, category, initials in SELLERS:
        images[f"sellers/{slug}.png"] = png_bytes(avatar(slug, category, initials).quantize(16))
    return images


def main() -> int:
    manifest = []
    for name, data in build_files().items():
        digest = hashlib.sha256(data).hexdigest()
        key = storage_key(digest)
        write_if_changed(STORAGE / key, data)
        manifest.append((name, len(data), digest, key))
    for rel, data in build_images().items():
        write_if_changed(IMAGES / rel, data)
    print("# product files: paste the entries you need into a product's files: list")
    for name, size, digest, key in manifest:
        print(f"- name: {name}\n  size: {size}\n  sha256: {digest}\n  key: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
