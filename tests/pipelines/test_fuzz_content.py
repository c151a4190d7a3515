"""Fuzzing content (issue #20): front-matter text and whole file trees, through validate and
the build.

The properties, for anything hypothesis can write:

- a clear error naming the file, or a valid result: `parse_product` and the YAML loader never
  raise anything but their own errors, every problem is one line `content/...:N: field: msg`;
- validate and the build agree: the build refuses exactly what validate refuses, but for the
  storage checks only validate makes, and a clean validate means a clean build;
- never a file outside the repository read: links point at a secret file, a secret folder and
  /dev/zero, and no open that succeeds ever lands on them; nothing they hold is published.

No hangs: a FIFO and /dev/zero are among the entries, and reading either would block or never
end, so a regression shows as a run that does not finish.
"""

from __future__ import annotations

import builtins
import io
import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from digitaldock import frontmatter, schema
from digitaldock.money import MoneyError

from .conftest import png

FIELDS = [*schema.PRODUCT_FIELDS, *schema.FILE_FIELDS, "avatar", "<<", "payout_currency"]
TOKENS = [":", ": ", "-", "- ", "[", "]", "{", "}", ",", "&a", "*a", "!!binary", "!x", "|", ">", "'", '"',
          "#", "%", "@", "?", "\n", "\n  ", " ", "\t", "~", "0", "017", "0x1F", "1:30", "12.50", "yes",
          "true", "null", "2099-01-01", "images/", "x.svg", "..", "\\u202e", "\u202e", "\u200b", "\x07",
          "\x85", "é", "１２", "---", "\r\n", "\ufeff", *FIELDS]

yaml_text = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=20),
                    st.sampled_from(["12.50", "017", "0x1F", "USD", "images/a.png", "images/a.svg",
                                     "2025-03-01", "published", "a" * 64]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner,
                                                 max_size=4)), max_leaves=12)
documents = st.dictionaries(st.sampled_from(FIELDS), values, max_size=12)


@st.composite
def front_matter(draw) -> str:
    """YAML that is mostly well formed (a dumped mapping), sometimes spliced with tokens."""
    doc = yaml.safe_dump(draw(documents), default_flow_style=draw(st.booleans()), allow_unicode=True)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(doc)))
        doc = doc[:at] + draw(yaml_text) + doc[at:]
    return doc


def construct_mapping(self, node, deep=False):  # keys kept as written, as load_yaml keeps them
    return {k.value: self.construct_object(v, deep=deep) for k, v in node.value}


Reference = type("Reference", (frontmatter.FastLoader,), {"construct_mapping": construct_mapping})


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(yaml_text, front_matter()))
def test_the_loader_refuses_cleanly_or_builds_what_pyyaml_builds(raw):
    """The differential property: whatever `load_yaml` accepts, PyYAML's constructor over the
    same libyaml parse and resolvers builds too, equal (keys as text); all else is a
    FrontMatterError with a line inside the text."""
    try:
        value = frontmatter.load_yaml(raw)
    except frontmatter.FrontMatterError as exc:
        assert 1 <= exc.line <= raw.count("\n") + raw.count("\r") + raw.count("\x85") + 2
        assert exc.message and "\n" not in exc.message
        return
    assert value == yaml.load(raw, Loader=Reference)

    def kinds(v):
        if isinstance(v, dict):
            assert all(isinstance(k, str) for k in v)
            for x in v.values():
                kinds(x)
        elif isinstance(v, list):
            for x in v:
                kinds(x)
        else:
            assert v is None or isinstance(v, (str, bool, int))
    kinds(value)


LINE = re.compile(r"^content/\S.*:[1-9][0-9]*: \S.*: \S.*$")


@settings(max_examples=300, deadline=None)
@given(meta=st.one_of(yaml_text, front_matter()), body=st.text(max_size=60))
@example(meta='"": 1', body="")  # a blank key once printed as `:1: : unknown field`
@example(meta='" ": 1', body="")
def test_a_product_file_gives_problems_naming_it_or_a_product(meta, body):
    path = "content/products/fuzzed-one.md"
    product, problems = schema.parse_product(path, f"---\n{meta}\n---\n{body}", ["templates"], ["ada"])
    assert (product is None) == bool(problems)
    for p in problems:
        assert p.path == path and p.line >= 1
        assert LINE.match(str(p)), str(p)


@settings(max_examples=300, deadline=None)
@given(value=values)
def test_every_field_checker_refuses_any_shape_with_a_message(value):
    """A list or a mapping where a scalar belongs is a message, never a TypeError."""
    c = schema._Collector("x.md", "")
    checkers = [schema._text(3, 120), schema._slug, schema._bool, schema._date, schema._status,
                schema._currency, schema._version, schema.check_image_path, schema.check_file_name,
                schema.check_file_size, schema.check_sha256, schema.check_storage_key, schema._website,
                lambda v: schema._price(v, "USD"), lambda v: schema._tags(c, v), lambda v: schema._gallery(c, v),
                lambda v: schema._files(c, v)]
    for check in checkers:
        try:
            check(value)
        except (ValueError, MoneyError) as exc:
            assert str(exc)


# --- whole trees ---------------------------------------------------------------------------------

NAME_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0")
names = st.tuples(st.text(NAME_CHARS, min_size=1, max_size=8), st.sampled_from(
    [".md", ".MD", ".png", ".svg", ".txt", "", ".jpg"])).map("".join).filter(lambda n: n not in (".", ".."))
places = st.sampled_from(["products", "products/sub", "sellers", "legal", "images", "images/sub", ""])

SVG = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
contents = st.one_of(st.binary(max_size=64), st.sampled_from([SVG, png(), png(fmt="GIF"), b"\xff\xfe"]),
                     front_matter().map(lambda m: f"---\n{m}---\nA description that is long enough.\n".encode()))
entries = st.one_of(
    st.tuples(st.just("file"), places, names, contents),
    st.tuples(st.just("link"), places, names, st.sampled_from(["secret", "secret-dir", "dangling", "zero",
                                                              "inside", "loop"])),
    st.tuples(st.just("dir"), places, names, st.none()),
    st.tuples(st.just("fifo"), places, names, st.none()),
    st.tuples(st.just("remove"), st.sampled_from(["images/cover.png", "products/budget-planner.md",
                                                  "categories.yml", "sellers/ada.md", "legal/terms.md"]),
              st.just(""), st.none()),
)


def apply(root: Path, outside: Path, entry) -> None:
    kind, place, name, data = entry
    folder = root / place
    target = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if kind == "remove":
            (root / place).unlink(missing_ok=True)
        elif os.path.lexists(target):
            return
        elif kind == "file":
            target.write_bytes(data)
        elif kind == "dir":
            target.mkdir()
        elif kind == "fifo":
            os.mkfifo(target)
        else:
            target.symlink_to({"secret": outside / "secret.png", "secret-dir": outside,
                               "dangling": outside / "nothing", "zero": Path("/dev/zero"),
                               "inside": root / "images" / "cover.png", "loop": target}[data])
    except (OSError, UnicodeEncodeError):  # a name the file system refuses: not a case
        pass


class Opens:
    """Records the (device, inode) of every file this process opens successfully."""

    def __init__(self, monkeypatch):
        self.seen: set[tuple[int, int]] = set()
        real_os_open, real_open = os.open, builtins.open

        def os_open(path, *args, **kwargs):
            fd = real_os_open(path, *args, **kwargs)
            st = os.fstat(fd)
            self.seen.add((st.st_dev, st.st_ino))
            return fd

        def open_(file, *args, **kwargs):
            f = real_open(file, *args, **kwargs)
            if not isinstance(file, int):
                st = os.fstat(f.fileno())
                self.seen.add((st.st_dev, st.st_ino))
            return f

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(builtins, "open", open_)
        monkeypatch.setattr(io, "open", open_)  # pathlib opens through io.open


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(changes=st.lists(entries, min_size=1, max_size=5))
def test_any_tree_gives_clear_errors_or_a_valid_build_and_never_reads_outside(changes, make_tree, monkeypatch):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        outside = base / "outside"
        outside.mkdir()
        (outside / "secret.png").write_bytes(png() + b"SECRET-BYTES")
        tree = make_tree(base / "repo")
        for entry in changes:
            apply(tree.root, outside, entry)
        forbidden = {(st.st_dev, st.st_ino) for st in (os.stat(outside / "secret.png"), os.stat("/dev/zero"))}
        with monkeypatch.context() as m:
            opens = Opens(m)
            v = tree.invoke("validate", "--base-ref", "")
            b = tree.invoke("build", "-o", "output")
        assert not opens.seen & forbidden, "a file outside the repository was opened"
        v_lines = v.stdout.splitlines()
        b_lines = [line for line in b.stderr.splitlines() if not line.startswith("build failed:")]
        if v.exit_code == 0:
            assert v_lines[-1].startswith("content OK") and b.exit_code == 0
        else:
            assert v_lines and all(LINE.match(line) for line in v_lines), v_lines
        assert all(LINE.match(line) for line in b_lines), b_lines
        storage_only = [line for line in v_lines if "storage" in line and ": files[" in line]
        if b.exit_code:
            assert sorted(b_lines) == sorted(set(v_lines) - set(storage_only))
        else:
            assert set(v_lines) <= set(storage_only) | {v_lines[-1]} if v_lines else True
            out = tree.base / "output"
            for p in out.rglob("*"):
                assert not p.is_symlink()
                if p.is_file():
                    assert b"SECRET-BYTES" not in p.read_bytes()
