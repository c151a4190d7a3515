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


# --- the strict loader (issue #20) -------------------------------------------------------------

def text_keys_loader(base: type) -> type:
    """`base` (PyYAML's constructor over our resolvers) with keys kept as written, as ours."""
    def construct_mapping(self, node, deep=False):
        return {k.value: self.construct_object(v, deep=deep) for k, v in node.value}
    return type(f"TextKeys{base.__name__}", (base,), {"construct_mapping": construct_mapping})


def reference(raw: str):
    """What PyYAML's own pure-Python composer and constructor build under our resolvers: the
    oracle `load_yaml` must equal wherever it accepts a document."""
    import yaml

    from digitaldock.frontmatter import LineLoader

    return yaml.load(raw, Loader=text_keys_loader(LineLoader))


ACCEPTED = [
    "title: Plain text\ntags: [a, b]\nfiles:\n  - name: a.pdf\n    size: 1024\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: true\nf: FALSE\n",  # only true/false are booleans
    "a: ~\nb:\nc: null\nd: NULL\n",
    "price: 12.50\nwhen: 2026-01-02\nstamp: 2026-01-02T10:00:00Z\ninf: .inf\n",  # stay text
    "'quoted': \"12\"\nempty: ''\nlong: >\n  folded\n  text\nneg: -3\nplus: +4\nzero: 0\n",
    "a: !!str 12\n",
    "<<: not a merge\n=: nor a value key\n",
    "",
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_the_strict_loader_builds_what_pyyaml_builds(raw):
    from digitaldock.frontmatter import load_yaml

    assert load_yaml(raw) == reference(raw)


@pytest.mark.parametrize("raw, value", [
    ("n: 0x1F", "0x1F"), ("n: 0o17", "0o17"), ("n: 017", "017"), ("n: 1:30", "1:30"),
    ("n: 1_000", "1_000"), ("n: 12345678901234567890", "12345678901234567890"),
    ("n: 123456789012345678", 123456789012345678), ("n: yes", "yes"), ("n: y", "y"),
    ("n: １２", "１２"),  # full-width digits are text
])
def test_yaml_11_number_forms_are_text(raw, value):
    """YAML 1.1 read 017 as 15, 1:30 as 90 and 0x1F as 31: prices nobody wrote."""
    from digitaldock.frontmatter import load_yaml

    assert load_yaml(raw) == {"n": value}


def test_keys_are_text_as_written():
    from digitaldock.frontmatter import load_yaml

    assert load_yaml("1: a\n~: b\ntrue: c\n") == {"1": "a", "~": "b", "true": "c"}


@pytest.mark.parametrize("raw, line, message", [
    ("title: a\nprice: 1\nprice: 2\n", 4, "'price' is given twice (first on line 3); keep one"),
    ("a: &x [1, 2]\nb: *x\n", 3, "YAML aliases (*name) are not allowed; write the value again"),
    ("a: &x 1\nb:\n  - 2\n  - *x\n", 5, "YAML aliases (*name) are not allowed; write the value again"),
    ("&k a: 1\n*k : 2\n", 3, "YAML aliases (*name) are not allowed; write the value again"),
    ("base: &b {x: 1}\nmerged:\n  <<: *b\n", 4, "YAML aliases (*name) are not allowed; write the value again"),
    ("a: !!binary aGk=\n", 2, "YAML tag '!!binary' is not allowed; write a plain value"),
    ("a: !!int '7'\n", 2, "YAML tag '!!int' is not allowed; write a plain value"),
    ("a: !!int 0x1F\n", 2, "YAML tag '!!int' is not allowed; write a plain value"),
    ("a: !!float 1.5\n", 2, "YAML tag '!!float' is not allowed; write a plain value"),
    ("a: !!python/object:os.system x\n", 2,
     "YAML tag '!!python/object:os.system' is not allowed; write a plain value"),
    ("a: !custom x\n", 2, "YAML tag '!custom' is not allowed; write a plain value"),
    ("d: !!set {x, y}\n", 2, "YAML tag '!!set' is not allowed; write a plain list or mapping"),
    ("[a, b]: unhashable key\n", 2, "a key must be a plain name, not a list or mapping"),
    ("a: " + "[" * 11 + "]" * 11 + "\n", 2, "nested more than 10 levels deep"),
    ("a: b: c\n", 2, "invalid YAML: mapping values are not allowed in this context"),
    ("a: [1, 2\n", 3, "invalid YAML: did not find expected ',' or ']'"),
    ("a: 1\nb: x\x07y\n", 3, "invalid YAML: the character U+0007 is not allowed"),
])
def test_the_strict_loader_refuses_with_a_line(raw, line, message):
    with pytest.raises(FrontMatterError) as exc:
        split(f"---\n{raw}---\nbody\n")
    assert (exc.value.line, exc.value.message) == (line, message)


def test_billion_laughs_is_refused_at_once():
    """Aliases are refused where they are met, so nothing is expanded, by the loader or by
    the line finder; PyYAML itself only shares objects, but every walk over them explodes."""
    from digitaldock.frontmatter import key_lines, load_yaml

    raw = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(FrontMatterError, match="aliases"):
        load_yaml(raw)
    assert len(key_lines(raw)) < 200  # each node walked once: 9 keys and 10 items each


def test_pyyaml_fallback_is_gone():
    """Nothing is handed to PyYAML's constructor any more: it is the reference, not a path."""
    import digitaldock.frontmatter as fm

    assert not hasattr(fm, "_Unusual")
