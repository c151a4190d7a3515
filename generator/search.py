"""The static search index: Pagefind reads the finished HTML and writes output/pagefind/.

Product pages mark what is indexed (`data-pagefind-body`), the filters (category, price
range, rating) and the sort keys (newest, price, rating); the search page's script queries
the index in the browser, so search needs no server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


class SearchIndexError(RuntimeError):
    """Pagefind failed; the message carries its output."""


def index_site(output: Path) -> None:
    target = output / "pagefind"
    if target.exists():
        shutil.rmtree(target)
    proc = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(output), "--output-subdir", "pagefind"],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise SearchIndexError(f"pagefind failed: {proc.stderr.strip() or proc.stdout.strip()}")
