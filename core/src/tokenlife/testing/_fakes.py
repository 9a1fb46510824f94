"""A clock that moves only when told to, and readable sequential ids."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone


class FrozenClock:
    """A clock that moves only when told to. Pass it as ``TokenAuthority(clock=...)``."""

    __slots__ = ("now",)

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        self.now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float | timedelta) -> float:
        """Move forward (never back) and return the new time."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("a FrozenClock never moves backwards")
        self.now += step
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=timezone.utc)


class SequentialIds:
    """Ids ``prefix-000001``, ``prefix-000002``, …: reproducible runs, readable failures."""

    __slots__ = ("_counter", "prefix")

    def __init__(self, prefix: str = "id") -> None:
        self.prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._counter):06d}"


__all__ = ("FrozenClock", "SequentialIds")
