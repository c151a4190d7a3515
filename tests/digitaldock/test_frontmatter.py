from __future__ import annotations

import pytest

from digitaldock.frontmatter import FrontMatterError, key_lines, line_of, split


def test_floats_stay_strings_so_prices_stay_exact():
    doc = split("---\nprice: 12.50\nversion: 1.0\ncount: 3\n---\nBody\n")
    assert doc.meta == {"price": "12.50", "version": "1.0", "count": 3}
    assert doc.body == "Body\n"
    assert doc.body_line == 6


def test_yaml_error_reports_its_line():
    with pytest.raises(FrontMatterError) as exc:
        split("---\ntitle: ok\nprice: [1, 2\n---\nbody")
    assert exc.value.line >= 3
    assert "invalid YAML" in exc.value.message


@pytest.mark.parametrize("text,message", [
    ("no front matter", "must start with YAML front matter"),
    ("---\n- a list\n---\nbody", "must be a mapping"),
])
def test_shape_errors(text, message):
    with pytest.raises(FrontMatterError, match=message):
        split(text)


def test_empty_front_matter_is_an_empty_mapping():
    assert split("---\n---\nbody").meta == {}


def test_key_lines_for_nested_keys():
    raw = "title: x\nfiles:\n  - name: a\n    size: 3\n  - name: b\n"
    lines = key_lines(raw)
    assert lines["title"] == 2
    assert lines["files[0].size"] == 5
    assert lines["files[1].name"] == 6
    assert line_of(lines, "files[1].sha256") == 6
    assert line_of(lines, "nothing") == 1
