"""Time as the node sees it: injected everywhere, so tests can move it."""

from __future__ import annotations

import datetime
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


def to_datetime(ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def iso(ms: int | None) -> str:
    return "" if ms is None else to_datetime(ms).isoformat(timespec="seconds")


DAY_MS = 24 * 3600 * 1000
