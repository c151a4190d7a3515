"""Time, in one place, so tests can move it forward instead of sleeping."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    """Wall-clock seconds; `advance()` (tests only) shifts it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def iso(self, delta_seconds: float = 0.0) -> str:
        return iso(self() + delta_seconds)


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()
