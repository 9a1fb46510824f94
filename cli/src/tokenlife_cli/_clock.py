"""The command line's clock and the way it shows times to people.

The core never reads a clock; the command line may, because relative times
("expired 3 min ago") are the point of ``inspect`` and ``sessions``. Tests need
a fixed "now", so ``TOKENLIFE_NOW`` (epoch seconds or ISO-8601) overrides the
system clock. It exists for tests only: it is not in ``--help`` on purpose, and
nothing about token validity should ever be decided in production with it.
"""

from __future__ import annotations

import math
import os
import time
from datetime import datetime, timezone
from typing import Any, Final

from ._errors import UsageError

NOW_ENV: Final = "TOKENLIFE_NOW"


def now() -> float:
    """Seconds since the epoch: ``TOKENLIFE_NOW`` when set (tests), else the system clock."""
    raw = os.environ.get(NOW_ENV, "").strip()
    if not raw:
        return time.time()  # noqa: TID251 - the CLI is not the pure layer
    return parse_instant(raw, what=NOW_ENV)


def parse_instant(raw: str, *, what: str) -> float:
    """Epoch seconds from ``1800000000`` or ``2027-01-15T08:00:00Z`` (UTC if no offset)."""
    try:
        value = float(raw)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"{what} must be epoch seconds or an ISO-8601 time, got {raw!r}"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    if not math.isfinite(value):
        raise UsageError(f"{what} must be a finite number of seconds, got {raw!r}")
    return value


def iso(instant: float) -> str:
    """ISO-8601 in UTC with a ``Z``, to the second: ``2027-01-15T08:00:00Z``."""
    try:
        moment = datetime.fromtimestamp(instant, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return f"(out of range: {instant!r})"
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("Z" if moment.microsecond == 0 else f".{moment.microsecond // 1000:03d}Z")


def span(seconds: float) -> str:
    """A duration for people, truncated to its two largest units: ``3 h 20 min``."""
    whole = int(abs(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(whole // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative(instant: float, reference: float) -> str:
    """``in 14 min``, ``3 min ago`` or ``now`` (under a second away)."""
    delta = instant - reference
    if abs(delta) < 1:
        return "now"
    return f"in {span(delta)}" if delta > 0 else f"{span(delta)} ago"


def when(instant: float, reference: float) -> str:
    """``2027-01-15T08:14:00Z (in 14 min)``."""
    return f"{iso(instant)} ({relative(instant, reference)})"


def as_json(instant: float, reference: float) -> dict[str, Any]:
    """A time for ``--json``: the number, the ISO text, and seconds from now (signed)."""
    return {
        "epoch": instant,
        "iso": iso(instant),
        "seconds_from_now": round(instant - reference, 3),
        "relative": relative(instant, reference),
    }


__all__ = ("NOW_ENV", "as_json", "iso", "now", "parse_instant", "relative", "span", "when")
