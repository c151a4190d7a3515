"""What may be in content/, and how a content file is read: the first two steps of loading.

Every content file is hostile until validated (issue #20), so nothing under content/ is
opened because of its name alone:

- `walk` lists the tree without following a symbolic link and without opening anything.
  A symbolic link (dangling or not, to a file or a folder) is refused wherever it is: one
  pointing outside the repository would otherwise be read, or copied into the built site and
  published. So is anything that is not a regular file or a folder (a device, a pipe, a
  socket), a folder named like a content file, a file of the wrong kind for its folder
  (`x.MD`, `notes.txt` in products/) and a name with a control or invisible character (such
  a name forges lines of output and looks like another file). Names starting with a dot
  (`.gitkeep`, `.DS_Store`) are not content and are skipped, unless they are links.
- `read_bytes` opens with O_NOFOLLOW and O_NONBLOCK, checks the open file is regular (so a
  link or device swapped in after the walk is still refused, and a pipe never blocks), and
  reads at most a limit: a file over it is refused before it is read to the end.
- `decode` turns the bytes into text: UTF-8 only (a leading byte-order mark is dropped),
  the line of the first undecodable byte in the message.

Only the sections the storefront reads are walked: products/, sellers/, legal/, images/.
Top-level files other than categories.yml, together.yml and tax_rates.yml are not content and are
left alone (a README, the edge's exported stats.json), except that no entry of content/ itself may be a link.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field

from .errors import DigitalDockError

# A product is front matter plus at most 20,000 characters of description (80 KB in UTF-8
# at worst): a quarter of a megabyte leaves room and still stops a file meant to exhaust us.
MAX_MARKDOWN_BYTES = 256 * 1024
# categories.yml (one line or two per category); together.yml (one line per product)
MAX_YAML_BYTES = 8 * 1024 * 1024

SECTIONS = ("products", "sellers", "legal", "images")

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class Unreadable(DigitalDockError):
    """A content file cannot be read as content; the message is a clause for a person."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.message, self.line = message, line


LINK = "is a symbolic link; commit the file itself, not a link (a link can point anywhere)"
SPECIAL = "is not a regular file (a device, pipe or socket); remove it"


def read_bytes(path: str, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them; raises Unreadable."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise Unreadable("does not exist") from None
    except OSError as exc:
        if os.path.islink(path):
            raise Unreadable(LINK) from None
        raise Unreadable(f"cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise Unreadable("is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(SPECIAL)
        if st.st_size > limit:
            raise Unreadable(f"is {st.st_size:,} bytes, over the {limit // 1024:,} KB limit for this file")
        chunks = [os.read(fd, st.st_size + 1)]
        total = len(chunks[0])
        while chunks[-1] and total <= limit:  # the file grew since fstat, or reads come back short
            chunks.append(os.read(fd, min(1 << 16, limit + 1 - total)))
            total += len(chunks[-1])
        if total > limit:
            raise Unreadable(f"is over the {limit // 1024:,} KB limit for this file")
        return b"".join(chunks)
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def decode(raw: bytes) -> str:
    """UTF-8 text without a leading byte-order mark; raises Unreadable naming the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise Unreadable(f"is not UTF-8 text (byte 0x{raw[exc.start]:02X} on line {line}); "
                         "save it as UTF-8", line) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str, limit: int) -> str:
    return decode(read_bytes(path, limit))


# --- names -------------------------------------------------------------------------------------

def name_problem(name: str) -> str | None:
    """Why `name` (one path component) is not acceptable in content/, or None.

    Control characters (a newline forges a line of `validate`'s output or a GitHub annotation)
    and format characters (bidi overrides, zero-width spaces and joiners: a name that shows as
    another) are refused, as is a name that is not UTF-8 (os.fsdecode's surrogates).
    """
    if name.isascii() and name.isprintable():
        return None
    for ch in name:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            return "the file name is not UTF-8; rename it"
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn"):
            return (f"the file name contains the invisible or control character U+{ord(ch):04X}; "
                    "rename it")
    return None


def shown(text: str) -> str:
    """`text` with every control, format or undecodable character written as an escape, so a
    path or a message always prints as one honest line."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # an undecodable byte, as os.fsdecode keeps it
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
    return "".join(out)


# --- the walk ---------------------------------------------------------------------------------

@dataclass
class Tree:
    """content/ as found: the files of each section, and what is wrong with the rest.

    Paths to open are absolute or relative strings as given; `problems` are
    (path relative to content/, field, message). `refused_images` maps an images/ path that
    is not a regular file (or has a bad name) to why, so a product naming it is told.
    """

    products: list[tuple[str, str]] = field(default_factory=list)  # (path, path under content/)
    sellers: list[tuple[str, str]] = field(default_factory=list)
    legal: list[tuple[str, str]] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # "images/a/b.png" → path
    refused_images: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def walk(root: str) -> Tree:
    """List content/ under the rules of the module docstring; never opens a file."""
    tree = Tree()
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        tree.problems.append((".", "content", f"cannot be listed ({exc.strerror})"))
        return tree
    for entry in entries:
        if entry.is_symlink():
            tree.problems.append((entry.name, "file", LINK))
        elif entry.name in SECTIONS:
            if entry.is_dir(follow_symlinks=False):
                _walk_section(tree, entry.path, entry.name, entry.name)
            else:
                tree.problems.append((entry.name, "file", f"must be a folder, holding the {entry.name}"))
    return tree


def _walk_section(tree: Tree, folder: str, rel: str, section: str) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        tree.problems.append((rel, "file", f"cannot be listed ({exc.strerror})"))
        return
    for entry in entries:
        name, path = entry.name, entry.path
        here = f"{rel}/{name}"
        link = entry.is_symlink()
        if name.startswith(".") and not link:
            continue  # .gitkeep, .DS_Store: not content, never read or published
        reason = name_problem(name)
        if reason is None and link:
            reason = LINK
        if reason is None:
            if entry.is_dir(follow_symlinks=False):
                if section == "images" or (section == "products" and not name.lower().endswith(".md")):
                    _walk_section(tree, path, here, section)
                    continue
                reason = ("is a folder named like a content file; rename it" if name.lower().endswith(".md")
                          else f"is a folder; {section}/ holds files only")
            elif not entry.is_file(follow_symlinks=False):
                reason = SPECIAL
        if reason is None:
            if section == "images":
                tree.images[here] = path
                continue
            if name.endswith(".md"):
                getattr(tree, section).append((path, here))
                continue
            if name.lower().endswith((".md", ".markdown")):
                reason = f"content files end in lowercase .md; rename it {os.path.splitext(name)[0]}.md"
            else:
                reason = f"is not a content file: {section}/ holds only <slug>.md files"
        if section == "images":
            tree.refused_images[here] = reason
        else:
            tree.problems.append((here, "file", reason))
