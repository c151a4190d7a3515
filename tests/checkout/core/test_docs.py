"""docs/edge.md documents every setting of checkout.settings."""

from __future__ import annotations

from checkout.core.settings import settings_table


def test_every_setting_is_in_the_docs(repo_root):
    text = (repo_root / "docs" / "edge.md").read_text()
    for name, default, help_ in settings_table():
        assert f"| `{name}` |" in text, name
        assert help_ in text, name
