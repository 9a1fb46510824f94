"""What a store implementation needs: the protocol, the records, and the rules.

A store keeps records atomically; it never decides. Its ``refresh`` applies
:func:`decide_refresh` inside its atomic section and writes what the decision
says; ``revoke_session`` and ``revoke_subject`` write what :func:`revoke_record`
returns. A ``create_session`` given a :class:`SessionLimit` ends what
:func:`sessions_to_end` picks, in the same atomic section as the insert.
Run :mod:`tokenlife.testing`'s contract suite against it.
"""

from __future__ import annotations

from ._machine import (
    REFRESH_TRANSITIONS,
    SESSION_TRANSITIONS,
    Event,
    SessionState,
    advance,
    is_live,
    sessions_to_end,
)
from ._machine import decide_refresh as decide_refresh
from ._machine import revoke as revoke_record
from ._store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RefreshSnapshot,
    RefreshState,
    Reject,
    RejectReason,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionLimit,
    SessionLimitMode,
    SessionRecord,
    Store,
)

__all__ = (
    "REFRESH_TRANSITIONS",
    "SESSION_TRANSITIONS",
    "AccessStatus",
    "Event",
    "PurgeRequest",
    "RefreshDecision",
    "RefreshRecord",
    "RefreshRequest",
    "RefreshSnapshot",
    "RefreshState",
    "Reject",
    "RejectReason",
    "Replay",
    "RevokeForReuse",
    "Rotate",
    "SessionLimit",
    "SessionLimitMode",
    "SessionRecord",
    "SessionState",
    "Store",
    "advance",
    "decide_refresh",
    "is_live",
    "revoke_record",
    "sessions_to_end",
)
