"""The one `Range` header a download may resume with, parsed strictly.

Only `bytes=N-` and `bytes=N-M` (N ≤ M, at most 18 digits each) are a range. Anything else
(several ranges, a suffix range `bytes=-N`, spaces, other units, N > M, a number too long) is
not an error: it parses as None and the request is treated as a new, full download, which
is counted like any other (see `links.redeem`). A resume is exactly the range parsed here,
served with `header()` in place of whatever the request sent (checkout/web/delivery.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"bytes=([0-9]{1,18})-([0-9]{0,18})")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int | None  # inclusive, as in the header; None: to the end of the file

    @property
    def resumes(self) -> bool:
        """Whether this range can continue a download: one that starts at byte 0 would fetch
        the file from its beginning, which is a new download whatever its end."""
        return self.start > 0

    def header(self) -> str:
        return f"bytes={self.start}-{'' if self.end is None else self.end}"


def parse(header: str | None) -> ByteRange | None:
    if header is None:
        return None
    found = _RANGE.fullmatch(header)
    if found is None:
        return None
    start = int(found[1])
    end = int(found[2]) if found[2] else None
    if end is not None and end < start:
        return None
    return ByteRange(start, end)
