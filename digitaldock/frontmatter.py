"""Split a Markdown file into YAML front matter and body, and find the line of any key.

The fast path parses with libyaml (CSafeLoader) and knows no line numbers; only when a file
has a problem do we compose the YAML again to find the line of each offending key, so a
clean catalogue of ten thousand products pays nothing for good error messages.

Floats are never produced: `price: 12.50` stays the string "12.50", because a float would
already have lost the exact amount before the schema saw it. Dates stay strings as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import DigitalDockError

try:
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is in the PyYAML wheels we pin
    _Base = yaml.SafeLoader


_AS_TEXT = ("tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")


def _without_floats(base: type) -> type:
    """A loader whose float and timestamp resolvers are gone: 12.50 loads as "12.50".

    Dates stay text too, so the schema parses them and can say which line holds a bad one
    (libyaml's own date constructor fails without a line number).
    """
    cls = type(f"NoFloat{base.__name__}", (base,), {})
    cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _AS_TEXT]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return cls


FastLoader = _without_floats(_Base)
LineLoader = _without_floats(yaml.SafeLoader)

_STR, _INT, _BOOL, _NULL, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null", "map", "seq"))


class _Unusual(Exception):
    """The document uses something `_build` leaves to PyYAML's own constructor."""


def _build(node: yaml.Node, loader: Any, seen: set[int]) -> Any:
    """Construct the plain node kinds front matter is made of, as SafeConstructor would.

    PyYAML's constructor goes through generators, recursion guards and per-node dispatch; for
    mappings, sequences, text, integers, booleans and nulls that is two thirds of the parse
    of a product file. Anything else (other tags, merge keys, an alias to a collection,
    unhashable keys) raises _Unusual and the whole document goes to PyYAML instead, so the
    result is always exactly what `yaml.load` gives.
    """
    tag = node.tag
    if tag == _STR:
        return node.value
    kind = node.__class__
    if kind is yaml.MappingNode and tag == _MAP:
        if id(node) in seen:  # an alias: PyYAML shares one object, and guards recursion
            raise _Unusual
        seen.add(id(node))
        out = {}
        for key_node, value_node in node.value:
            key = key_node.value if key_node.tag == _STR else _build(key_node, loader, seen)
            if key.__class__ not in (str, int, bool) and key is not None:
                raise _Unusual  # merge keys, unhashable keys: PyYAML says what they mean
            out[key] = _build(value_node, loader, seen)
        return out
    if kind is yaml.SequenceNode and tag == _SEQ:
        if id(node) in seen:
            raise _Unusual
        seen.add(id(node))
        return [_build(item, loader, seen) for item in node.value]
    if kind is yaml.ScalarNode:
        if tag == _INT:
            return loader.construct_yaml_int(node)
        if tag == _BOOL:
            return loader.bool_values[node.value.lower()]
        if tag == _NULL:
            return None
    raise _Unusual


def load_yaml(raw: str) -> Any:
    """`yaml.load(raw, Loader=FastLoader)`, faster for the usual front matter."""
    loader = FastLoader(raw)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        try:
            return _build(node, loader, set())
        except _Unusual:
            return loader.construct_document(node)
    finally:
        loader.dispose()

# The opening fence, and the first closing fence line after it. Two anchored searches instead
# of one lazy `(.*?)` pattern: the lazy one retried the fence at every character of the front
# matter, a tenth of a 10,000-product build's parsing.
_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = re.compile(r"^---[ \t]*\r?$\n?", re.M)


class FrontMatterError(DigitalDockError, ValueError):
    """The file has no front matter or its YAML does not parse; `line` is 1-based."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Document:
    meta: dict[str, Any]
    body: str
    raw_meta: str  # the YAML text, kept to find key lines on demand
    body_line: int  # line number where the body starts


def split(text: str) -> Document:
    opening = _OPEN.match(text)
    closing = _CLOSE.search(text, opening.end()) if opening else None
    if not closing:
        raise FrontMatterError("file must start with YAML front matter between '---' lines", 1)
    raw = text[opening.end():closing.start()]
    if raw.endswith("\n"):  # the line break before the closing fence is not part of the YAML
        raw = raw[:-2] if raw.endswith("\r\n") else raw[:-1]
    try:
        meta = load_yaml(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 2) if mark else 1  # +1 for 1-based, +1 for the opening fence
        raise FrontMatterError(f"invalid YAML: {exc.problem or exc.context}", line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be a mapping of field: value", 2)
    end = closing.end()
    return Document(meta=meta, body=text[end:], raw_meta=raw, body_line=text.count("\n", 0, end) + 1)


def key_lines(raw_meta: str) -> dict[str, int]:
    """Map each key path ("price", "files[1].sha256") to its 1-based line in the file."""
    try:
        node = yaml.compose(raw_meta, Loader=FastLoader)  # libyaml's marks carry the lines too
    except yaml.YAMLError:  # pragma: no cover - split() already parsed this text
        return {}
    lines: dict[str, int] = {}

    def walk(n: yaml.Node, path: str) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                p = f"{path}.{k.value}" if path else str(k.value)
                lines[p] = k.start_mark.line + 2
                walk(v, p)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                p = f"{path}[{i}]"
                lines[p] = item.start_mark.line + 2
                walk(item, p)

    if node is not None:
        walk(node, "")
    return lines


def line_of(lines: dict[str, int], field: str) -> int:
    """The line of `field`, or of its nearest parent that exists, or 1."""
    while field:
        if field in lines:
            return lines[field]
        cut = max(field.rfind("."), field.rfind("["))
        field = field[:cut] if cut > 0 else ""
    return 1
