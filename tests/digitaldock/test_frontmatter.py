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


YAML_CASES = [
    "title: Plain text\ntags: [a, b]\nfiles:\n  - name: a.pdf\n    size: 1024\n",
    "n: 0x1F\no: 017\ns: 1:30\nu: 1_000\nneg: -3\n",  # YAML 1.1 integers
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\n",
    "a: ~\nb:\nc: null\n~: keyed by null\n1: keyed by a number\n",
    "price: 12.50\nwhen: 2026-01-02\nstamp: 2026-01-02T10:00:00Z\n",  # stay text
    "a: &x [1, 2]\nb: *x\n",  # an alias to a collection: one shared object, as PyYAML builds it
    "a: &m {x: 1}\nb: *m\n",
    "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",
    "a: !!str 12\nb: !!int '7'\nc: !!binary aGk=\nd: !!set {x, y}\n",
    "=: value key\n",
    "'quoted': \"12\"\nempty: ''\nlong: >\n  folded\n  text\n",
    "[a, b]: unhashable key\n",
    "a: !custom x\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "",
    "- a\n- b\n",
]


@pytest.mark.parametrize("raw", YAML_CASES)
def test_the_fast_loader_builds_what_pyyaml_builds(raw):
    import yaml

    from digitaldock.frontmatter import FastLoader, load_yaml

    try:
        expected = yaml.load(raw, Loader=FastLoader)
    except yaml.YAMLError as exc:
        with pytest.raises(type(exc)) as got:
            load_yaml(raw)
        assert str(got.value) == str(exc)
        return
    assert load_yaml(raw) == expected


def test_aliases_are_shared_not_expanded():
    """A 'billion laughs' document stays small: aliases reuse one object, as in PyYAML."""
    from digitaldock.frontmatter import load_yaml

    raw = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    doc = load_yaml(raw)
    assert doc["i"][0] is doc["i"][9] and doc["b"][0] is doc["a"]
