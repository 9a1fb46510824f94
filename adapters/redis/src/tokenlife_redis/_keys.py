"""The key layout: which Redis key holds what, and which hash slot it lands in.

Every key is ``prefix + "{" + group + id + "}" + suffix``. Redis Cluster hashes
only the part between the first ``{`` and the next ``}`` (the hash tag), so:

- everything of one session — its record and all its refresh records — shares
  the tag ``{s:<sid>``…``}`` and lives in one slot, which is what lets a refresh
  be one single-slot script;
- a subject's watermark and session index share ``{u:<subject>}``;
- an access-token denial has its own ``{d:<jti>}``, so strict-mode checks
  spread over the cluster instead of hammering one node.

The one-letter group after ``{`` keeps the tag non-empty whatever the id (an
empty tag would silently hash the whole key and split a session across slots),
and keeps a sid, a subject and a jti that happen to be equal apart. If an id
contains ``}``, the tag is cut there — but it is cut at the same place for
every key of that id, so a session still stays in one slot. Distinct suffixes
of equal length make collisions between kinds impossible.

Three global sorted sets are purge's work queues (sessions by expiry, denials
by ``exp``, watermarks by time): Redis key expiry already reclaims records
(durations set from the caller's clock), but ``purge`` must work on the
caller's ``now`` too, and reclaims what a deadline behind it left.
"""

from __future__ import annotations

from typing import Final

SESSION: Final = "h"  # hash: the session record, plus the mirrored watermark
FAMILY: Final = "r"  # hash: refresh jti -> encoded refresh record
WATERMARK: Final = "w"  # string: the subject's "revoked before" time
INDEX: Final = "i"  # sorted set: the subject's sids, scored by created_at
LIMIT_LOCK: Final = "l"  # string: held by a limited login on a cluster (a random token)


class Keys:
    """Key names under one prefix."""

    __slots__ = ("denial_queue", "prefix", "session_queue", "watermark_queue")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.session_queue = f"{prefix}purge:sessions"
        self.denial_queue = f"{prefix}purge:denials"
        self.watermark_queue = f"{prefix}purge:watermarks"

    def session(self, sid: str) -> str:
        return f"{self.prefix}{{s:{sid}}}:{SESSION}"

    def session_parts(self) -> tuple[str, str]:
        """``session(sid)`` is ``head + sid + tail``: for scripts that find a
        subject's sessions through its index (single server only)."""
        head, _, tail = self.session("\0").partition("\0")
        return head, tail

    def family(self, sid: str) -> str:
        return f"{self.prefix}{{s:{sid}}}:{FAMILY}"

    def watermark(self, subject: str) -> str:
        return f"{self.prefix}{{u:{subject}}}:{WATERMARK}"

    def index(self, subject: str) -> str:
        return f"{self.prefix}{{u:{subject}}}:{INDEX}"

    def limit_lock(self, subject: str) -> str:
        return f"{self.prefix}{{u:{subject}}}:{LIMIT_LOCK}"

    def denial(self, jti: str) -> str:
        return f"{self.prefix}{{d:{jti}}}"


__all__ = ("Keys",)
