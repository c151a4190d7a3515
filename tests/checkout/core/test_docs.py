"""Every setting of the edge is documented, once: in the README's generated table."""

from __future__ import annotations

from checkout.core.settings import settings_table


def test_every_setting_is_in_the_readme_table(repo_root):
    text = (repo_root / "README.md").read_text()
    for name, _default, _help in settings_table():  # the table's text itself: test_settings_doc.py
        assert f"| `{name}` |" in text, name


def test_the_edge_docs_point_at_the_table_instead_of_copying_it(repo_root):
    text = (repo_root / "docs" / "edge.md").read_text()
    assert "README.md#configuration" in text and "| `SECRET_KEY` |" not in text
