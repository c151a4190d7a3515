"""What a content image is: the one rule validate, scan and the build all apply.

Every file under content/images/ is published on the storefront's own origin, so it must be
something a browser only ever draws: a raster image (PNG, JPEG, GIF or WebP), whose name
ends with the extension of what it really is (a PNG called `x.html` would be served as a
page). SVG is refused everywhere (covers, galleries, avatars, any file under images/): it is
a document that can carry script in more spellings than any scanner lists (`<s:script>`,
`&#106;avascript:`, `foreignObject` with an iframe), and it would run on our origin.

`inspect` opens the file without following a symbolic link, refuses anything but a regular
file, checks size and pixel count from the header before Pillow decodes anything, and
`verify()`s the data. It returns the image's size, which is all the build needs.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass

from .errors import DigitalDockError

MAX_IMAGE_BYTES = 10 * 1024 * 1024
# 40 megapixels (8,000 × 5,000) is far above any cover, and far below a decompression bomb;
# Pillow's own limit (89 megapixels, an error at twice that) is only a second line
MAX_IMAGE_PIXELS = 40_000_000
# what each accepted format may be called
FORMATS: dict[str, tuple[str, ...]] = {
    "PNG": (".png",), "JPEG": (".jpg", ".jpeg"), "GIF": (".gif",), "WEBP": (".webp",),
}
EXTENSIONS = frozenset(ext for exts in FORMATS.values() for ext in exts)
ACCEPTED = "PNG, JPEG, GIF or WebP"

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class ImageRefused(DigitalDockError, ValueError):
    """Why a file is not a usable content image; the message is a clause for a person."""


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str


def extension_problem(name: str) -> str | None:
    """Why a file called `name` cannot be a content image, judged by its name alone."""
    ext = os.path.splitext(name)[1].lower()
    if ext == ".svg" or ext == ".svgz":
        return f"SVG images are not accepted (an SVG can carry scripts); use {ACCEPTED}"
    if ext not in EXTENSIONS:
        shown = repr(ext) if ext else "no extension"
        return f"{shown} is not an image extension; use .png, .jpg, .jpeg, .gif or .webp"
    return None


def inspect(path: str | os.PathLike[str]) -> ImageInfo:
    """The size of the image at `path`, or ImageRefused saying why it is not usable."""
    reason = extension_problem(os.fspath(path))
    if reason:
        raise ImageRefused(reason)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise ImageRefused("does not exist") from None
    except OSError as exc:
        if os.path.islink(path):
            raise ImageRefused("is a symbolic link; commit the image itself") from None
        raise ImageRefused(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageRefused("is a folder" if stat.S_ISDIR(st.st_mode) else "is not a regular file")
        if st.st_size > MAX_IMAGE_BYTES:
            raise ImageRefused(f"is {st.st_size} bytes, over the {MAX_IMAGE_BYTES // (1024 * 1024)} MB image limit")
        return _decode(f, os.path.splitext(os.fspath(path))[1].lower())


def _decode(f, ext: str) -> ImageInfo:
    from PIL import Image

    cannot = f"the file cannot be decoded as {ACCEPTED}"
    try:
        with warnings.catch_warnings():
            # our own pixel limit is lower and checked below, from the header alone
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(f, formats=list(FORMATS)) as im:
                fmt, (width, height) = im.format, im.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageRefused(f"{width}×{height} is too many pixels (at most {MAX_IMAGE_PIXELS:,})")
                im.verify()
    except ImageRefused:
        raise
    except Image.DecompressionBombError:
        raise ImageRefused(f"too many pixels (at most {MAX_IMAGE_PIXELS:,})") from None
    except Exception:  # Pillow raises many types for a broken file  # noqa: BLE001
        raise ImageRefused(cannot) from None
    if ext not in FORMATS.get(fmt, ()):
        raise ImageRefused(f"it is a {fmt} image named {ext}; name it {FORMATS[fmt][0]}")
    return ImageInfo(width, height, fmt)
