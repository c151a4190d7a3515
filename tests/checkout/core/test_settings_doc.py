"""The README documents every setting and shows the two commands CI relies on."""

from __future__ import annotations

from checkout.core import settings_doc


def test_readme_settings_table_is_current(repo_root):
    readme = (repo_root / "README.md").read_text("utf-8")
    assert settings_doc.render_readme(readme) == readme, "run: python -m checkout.core.settings_doc --write"
    for _, name, _, _ in settings_doc.rows():
        assert f"`{name}`" in readme


def test_ci_runs_the_readme_test_command(repo_root):
    readme = (repo_root / "README.md").read_text("utf-8")
    ci = (repo_root / ".ci/run").read_text("utf-8")
    assert "```sh\n./scripts/test\n```" in readme and "./scripts/test" in ci
    assert "```sh\n./scripts/run\n```" in readme
