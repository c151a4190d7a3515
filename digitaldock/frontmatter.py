"""Split a Markdown file into YAML front matter and body, and find the line of any key.

Every YAML a content file holds (front matter, categories.yml) goes through one
strict loader, because every content file is hostile until validated (issue #20):

- **YAML 1.2 core scalars, narrowed.** Only `true`/`false` are booleans, only `~`/`null`/empty
  are null, and only a plain decimal integer without a leading zero (at most 18 digits) is a
  number. Everything else is text: `yes`, `on`, `017`, `0x1F`, `0o17`, `1:30`, `1_000`, `12.50`,
  `2026-01-02`. A field that wants a number then says it got text, instead of quietly taking
  15 for `017` or 90 for `1:30` as YAML 1.1 would. Floats never exist, so `price: 12.50` is
  the exact string "12.50".
- **No duplicate keys**: a key given twice is an error naming both lines, never "the last
  one wins".
- **No aliases, no tags, no merge keys**: `*alias` is refused where it is met (so nothing is
  ever expanded: no "billion laughs"), any tag other than the plain kinds (`!!binary`,
  `!!set`, `!custom`) is refused, and `<<` is just a key the schema does not know.
- **Keys are text**, exactly as written (`1: x` has the key "1"); a list or mapping as a key
  is refused.
- **Bounded**: nesting deeper than `MAX_DEPTH` is refused (libyaml itself stops at 1,000).

The fast path parses with libyaml and builds the values itself; line numbers come from
libyaml's marks, computed again only for a file that has a problem, so a clean catalogue of
ten thousand products pays nothing for good error messages.
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

MAX_DEPTH = 10  # product files need 3 (files[0].name); ten leaves room and stops abuse

_STR, _INT, _BOOL, _NULL, _MAP, _SEQ = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null", "map", "seq"))

_BOOL_RX = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z")
_INT_RX = re.compile(r"^[-+]?(?:0|[1-9][0-9]{0,17})\Z")
_NULL_RX = re.compile(r"^(?:~|null|Null|NULL|)\Z")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}

# first character → [(tag, pattern)], as PyYAML's resolver wants them
_CORE_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _rx, _firsts in ((_BOOL, _BOOL_RX, "tTfF"), (_INT, _INT_RX, "-+0123456789"),
                           (_NULL, _NULL_RX, ["~", "n", "N", ""])):
    for _first in _firsts:
        _CORE_RESOLVERS.setdefault(_first, []).append((_tag, _rx))


def _core(base: type) -> type:
    """`base` with the narrowed YAML 1.2 core resolvers above and nothing else."""
    return type(f"Core{base.__name__}", (base,), {"yaml_implicit_resolvers": _CORE_RESOLVERS})


# libyaml's parser and composer with our resolvers: what every content YAML is parsed with
FastLoader = _core(_Base)
# the same rules in pure Python (PyYAML's own composer and constructor): the reference the
# differential test holds `load_yaml` against
LineLoader = _core(yaml.SafeLoader)


class FrontMatterError(DigitalDockError, ValueError):
    """The file has no front matter or its YAML does not parse; `line` is 1-based."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.message = message
        self.line = line


class _Refused(Exception):
    def __init__(self, message: str, at: yaml.Node | yaml.Mark, first: yaml.Node | None = None):
        super().__init__(message)
        self.message = message
        self.line0 = (at.start_mark if isinstance(at, yaml.Node) else at).line
        self.first_line0 = first.start_mark.line if first is not None else None


_ALIAS = "YAML aliases (*name) are not allowed; write the value again"


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag == _STR:
        return value
    plain = not node.style  # libyaml says "" for plain, PyYAML None
    if tag == _INT and plain and _INT_RX.match(value):
        return int(value)
    if tag == _BOOL and plain and value in _BOOLS:
        return _BOOLS[value]
    if tag == _NULL and plain and _NULL_RX.match(value):
        return None
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    raise _Refused(f"YAML tag {shown!r} is not allowed; write a plain value", node)


def _first_alias(raw: str) -> yaml.Mark | None:
    """Where the first alias (*name) is, from libyaml's events: composing shares the anchored
    node, so only the events know where each use is. Only run when the text has a '*'."""
    loader = FastLoader(raw)
    try:
        while loader.check_event():
            event = loader.get_event()
            if event.__class__ is yaml.AliasEvent:
                return event.start_mark
    except yaml.YAMLError:  # pragma: no cover - the same text composed without an error
        return None
    finally:
        loader.dispose()
    return None


def _build(node: yaml.Node, depth: int) -> Any:
    """The value of `node` under the rules of the module docstring; raises _Refused."""
    kind = node.__class__
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else _scalar(node)  # text first: most values are
    if depth >= MAX_DEPTH:
        raise _Refused(f"nested more than {MAX_DEPTH} levels deep", node)
    if kind is yaml.MappingNode and node.tag == _MAP:
        out: dict[str, Any] = {}
        where: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.__class__ is not yaml.ScalarNode:
                raise _Refused("a key must be a plain name, not a list or mapping", key_node)
            if key_node.tag != _STR:
                _scalar(key_node)  # refuses a tagged key
            key = key_node.value
            if key in where:
                raise _Refused(f"{key!r} is given twice", key_node, where[key])
            where[key] = key_node
            out[key] = _build(value_node, depth + 1)
        return out
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        return [_build(item, depth + 1) for item in node.value]
    shown = node.tag.replace("tag:yaml.org,2002:", "!!")
    raise _Refused(f"YAML tag {shown!r} is not allowed; write a plain list or mapping", node)


def _reader_error(exc: yaml.YAMLError, raw: str, first_line: int) -> FrontMatterError:
    """A one-line error for what PyYAML's reader refuses (control characters, mostly)."""
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int):
        line = raw.count("\n", 0, exc.position) + first_line
        return FrontMatterError(f"invalid YAML: the character U+{exc.character:04X} is not allowed", line)
    return FrontMatterError("invalid YAML: " + " ".join(str(exc).split()), first_line)


def load_yaml(raw: str, first_line: int = 1) -> Any:
    """Parse `raw` with the strict rules of this module; raises FrontMatterError.

    `first_line` is the file line `raw` starts on, for the line numbers in messages.
    """
    try:
        loader = FastLoader(raw)
    except yaml.YAMLError as exc:  # pragma: no cover - the reader checks lazily, in get_single_node
        raise _reader_error(exc, raw, first_line) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line + first_line) if mark else first_line
            raise FrontMatterError(f"invalid YAML: {exc.problem or exc.context}", line) from None
        except yaml.YAMLError as exc:  # the reader: a character YAML does not allow
            raise _reader_error(exc, raw, first_line) from None
        if node is None:
            return None
        alias = _first_alias(raw) if "*" in raw else None
        if alias is not None:  # refused before anything is built: nothing is ever expanded
            raise FrontMatterError(_ALIAS, alias.line + first_line)
        try:
            return _build(node, 0)
        except _Refused as exc:
            message = exc.message
            if exc.first_line0 is not None:
                message += f" (first on line {exc.first_line0 + first_line}); keep one"
            raise FrontMatterError(message, exc.line0 + first_line) from None
    finally:
        loader.dispose()


# The opening fence, and the first closing fence line after it. Two anchored searches instead
# of one lazy `(.*?)` pattern: the lazy one retried the fence at every character of the front
# matter, a tenth of a 10,000-product build's parsing.
_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = re.compile(r"^---[ \t]*\r?$\n?", re.M)


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
    meta = load_yaml(raw, first_line=2)  # line 1 is the opening fence
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError("front matter must be a mapping of field: value", 2)
    end = closing.end()
    return Document(meta=meta, body=text[end:], raw_meta=raw, body_line=text.count("\n", 0, end) + 1)


def key_lines(raw_meta: str) -> dict[str, int]:
    """Map each key path ("price", "files[1].sha256") to its 1-based line in the file.

    Meant for text `load_yaml` accepted; each node is visited once even if it were not, so
    an alias can never make this walk grow.
    """
    try:
        node = yaml.compose(raw_meta, Loader=FastLoader)  # libyaml's marks carry the lines too
    except yaml.YAMLError:  # pragma: no cover - split() already parsed this text
        return {}
    lines: dict[str, int] = {}
    seen: set[int] = set()

    def walk(n: yaml.Node, path: str, depth: int) -> None:
        if id(n) in seen or depth > MAX_DEPTH:
            return
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                p = f"{path}.{k.value}" if path else str(k.value)
                lines.setdefault(p, k.start_mark.line + 2)
                walk(v, p, depth + 1)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                p = f"{path}[{i}]"
                lines[p] = item.start_mark.line + 2
                walk(item, p, depth + 1)

    if node is not None:
        walk(node, "", 0)
    return lines


def line_of(lines: dict[str, int], field: str) -> int:
    """The line of `field`, or of its nearest parent that exists, or 1."""
    while field:
        if field in lines:
            return lines[field]
        cut = max(field.rfind("."), field.rfind("["))
        field = field[:cut] if cut > 0 else ""
    return 1
