"""docs/security.md names a test for every line, and each named test exists."""

from __future__ import annotations

import re


def test_every_line_of_the_security_doc_names_a_test_that_exists(repo_root):
    text = (repo_root / "docs" / "security.md").read_text("utf-8")
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert named
    missing = [f"{path}::{name}" for path, name in named
               if not (repo_root / path).is_file()
               or not re.search(rf"^\s*def {name}\(", (repo_root / path).read_text("utf-8"), re.M)]
    assert not missing, missing
    for section in re.split(r"^#{2,3} ", text, flags=re.M)[1:]:
        if section.startswith("What this does not cover"):
            continue  # stated limits, not claims
        claims = re.split(r"^- ", section, flags=re.M)[1:]
        assert all("`tests/" in claim for claim in claims), [c[:80] for c in claims if "`tests/" not in c]
