"""docs/security.md, section "Uploads": every test it cites as proof exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _cited() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text.split("\n## Uploads\n", 1)[1].split("\n## ", 1)[0]
    cited, last = [], None
    for ref in re.findall(r"`((?:[\w/]+\.py|…)::\w+)`", section):
        path, name = ref.split("::")
        last = last if path == "…" else path
        cited.append((last, name))
    return cited


def test_every_test_the_uploads_section_cites_exists():
    cited = _cited()
    assert len(cited) >= 30
    for path, name in cited:
        tree = ast.parse((ROOT / "tests" / path).read_text())
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in names, f"docs/security.md cites {path}::{name}, which does not exist"
