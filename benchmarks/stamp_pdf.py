"""Stamping a large PDF (issue #18): time and peak memory of `checkout.delivery.stamping.stamp`.

    .venv/bin/python benchmarks/stamp_pdf.py [--pages 500] [--mb 100]

Writes a synthetic PDF of N pages (each with a little text and an incompressible image, so the
file reaches the size asked for) to a temporary folder, then runs each step in a fresh process
and reports its wall time and peak RSS (`ru_maxrss` of the child):

- baseline: the same process importing pypdf and copying the file (what any stamp must cost);
- ours: the incremental-update stamp, then a read-back that checks the footer on every page;
- pypdf's usual way (`PdfWriter(clone_from=…)` and `merge_page` of a footer page on each page),
  on the same file, for comparison.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def write_pdf(path: Path, pages: int, total_bytes: int) -> None:
    """A valid PDF written object by object, never held in memory whole."""
    per_image = max(1, total_bytes // pages)
    side = int(per_image ** 0.5)
    size = side * side
    offsets: dict[int, int] = {}
    with open(path, "wb") as f:
        def obj(n: int, body: bytes) -> None:
            offsets[n] = f.tell()
            f.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")

        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = b" ".join(b"%d 0 R" % (10 + 3 * i) for i in range(pages))
        obj(2, b"<< /Type /Pages /Count %d /Kids [%s] >>" % (pages, kids))
        obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for i in range(pages):
            page, content, image = 10 + 3 * i, 11 + 3 * i, 12 + 3 * i
            obj(page, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
                      b" /Resources << /Font << /F1 3 0 R >> /XObject << /Im %d 0 R >> >> >>" % (content, image))
            body = b"BT /F1 18 Tf 72 760 Td (Page %d of the benchmark book) Tj ET q 400 0 0 400 97 200 cm /Im Do Q" % (i + 1)
            obj(content, b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
            offsets[image] = f.tell()
            f.write(b"%d 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
                    b" /BitsPerComponent 8 /Length %d >>\nstream\n" % (image, side, side, size))
            f.write(os.urandom(size))
            f.write(b"\nendstream\nendobj\n")
        count = 10 + 3 * pages
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % count)
        for n in range(1, count):
            f.write(b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n")
        f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref))


STEPS = {
    "baseline": """
import shutil, pypdf
shutil.copyfile(SRC, DST)
""",
    "ours": """
from pathlib import Path
from checkout.delivery.stamping import Stamp, stamp
stamp(Path(SRC), Path(DST), Stamp("reader@example.com", "dd-0123456789abcdef0123"))
""",
    "ours, read back": """
from pypdf import PdfReader
r = PdfReader(DST)
bad = [i for i, p in enumerate(r.pages) if "reader@example.com" not in p.extract_text()]
assert not bad, bad[:5]
""",
    "pypdf merge_page": """
import io
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
d = FPDF(format="A4"); d.add_page(); d.set_font("Helvetica", size=7); d.text(18, 290, "Licensed to reader@example.com")
footer = PdfReader(io.BytesIO(bytes(d.output()))).pages[0]
w = PdfWriter(clone_from=SRC)
for p in w.pages:
    p.merge_page(footer)
w.write(DST + ".merged")
""",
}


def run(step: str, src: Path, dst: Path) -> tuple[float, float]:
    code = f"SRC, DST = {str(src)!r}, {str(dst)!r}\n" + STEPS[step] + """
import resource, sys
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{step} failed:\n{done.stderr}")
    return elapsed, int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--skip-merge", action="store_true", help="leave out pypdf's merge_page comparison")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dd-stamp-bench-") as tmp:
        src, dst = Path(tmp) / "book.pdf", Path(tmp) / "stamped.pdf"
        write_pdf(src, args.pages, args.mb * 1024 * 1024)
        print(f"input: {args.pages} pages, {src.stat().st_size / 1e6:.1f} MB")
        print(f"{'step':<20} {'wall s':>8} {'peak RSS MB':>12}")
        for step in STEPS:
            if step == "pypdf merge_page" and args.skip_merge:
                continue
            elapsed, rss = run(step, src, dst)
            print(f"{step:<20} {elapsed:>8.2f} {rss:>12.1f}")
        print(f"stamped output: {dst.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
