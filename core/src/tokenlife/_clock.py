"""The system clock, kept in one module so everything else can take ``now`` as data."""

from __future__ import annotations

import time


def system_time() -> float:
    """Seconds since the epoch, as a float."""
    return time.time()


__all__ = ("system_time",)
