"""The Store protocol, the records a store keeps, and what its operations return.

A store is atomic storage, not policy: every rule lives in ``_machine``. The
one operation that must read, decide and write in one step (``refresh``)
applies :func:`tokenlife._machine.decide_refresh` inside the store's own
atomic section — a lock, a transaction, a Lua script — so a refresh costs one
round trip. Stores never read a clock: ``now`` comes in every request.
"""

from __future__ import annotations

import enum
from types import TracebackType
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec


class RefreshState(enum.Enum):
    """Stored states of a refresh token. EXPIRED is derived from ``now``, never stored."""

    ACTIVE = "active"
    ROTATED = "rotated"


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One login: a family of refresh tokens sharing a ``sid``."""

    sid: str
    subject: str
    created_at: float
    #: Absolute expiry, fixed at login; rotation never moves it.
    expires_at: float
    #: The one ACTIVE refresh token of the session.
    current_jti: str
    #: When the current generation began: the latest rotation, or the login.
    refreshed_at: float
    #: Tokens without a ``gen`` claim (minted before generations existed) with
    #: ``iat`` below this die once ``now >= floor + grace``: whole seconds, the
    #: rule those tokens were issued under.
    access_floor: float = 0.0
    revoked_at: float | None = None
    revoked_reason: str | None = None
    #: Claims every access token of the session carries (scope, csrf, custom).
    access_claims: dict[str, Any] = {}
    #: Free-form descriptions for "your devices" lists (user agent, ip).
    metadata: dict[str, str] = {}
    #: How many rotations the session has had. Every access token carries the
    #: generation it was minted in (its ``gen`` claim); one of an older
    #: generation is superseded by identity, whatever the clock says.
    generation: int = 0

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class RefreshRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One refresh token, linked to its parent and successor along the chain."""

    jti: str
    sid: str
    subject: str
    issued_at: float
    expires_at: float
    parent_jti: str | None = None
    state: RefreshState = RefreshState.ACTIVE
    rotated_at: float | None = None
    successor_jti: str | None = None


class RefreshRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a store needs to decide and apply one refresh atomically."""

    jti: str
    sid: str
    subject: str
    now: float
    grace: float
    #: The id the successor gets if the token is rotated now.
    successor_jti: str
    refresh_ttl: float
    raise_access_floor: bool = True


class RefreshSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """What a store reads before deciding a refresh."""

    record: RefreshRecord | None
    session: SessionRecord | None
    successor: RefreshRecord | None
    revoked_before: float | None


# -- the decisions (tagged union) ---------------------------------------------


class Rotate(msgspec.Struct, frozen=True, kw_only=True, tag="rotate"):
    """Write all three records: the parent ROTATED, the successor ACTIVE, the session."""

    parent: RefreshRecord
    successor: RefreshRecord
    session: SessionRecord


class Replay(msgspec.Struct, frozen=True, kw_only=True, tag="replay"):
    """Inside grace: hand back the same successor, write nothing."""

    successor: RefreshRecord
    session: SessionRecord


class RevokeForReuse(msgspec.Struct, frozen=True, kw_only=True, tag="reuse"):
    """Reuse detected: write the revoked session, then refuse."""

    session: SessionRecord
    jti: str


#: ``clock_behind``: the token was rotated at a time later than the request's
#: ``now``; a negative elapsed time is inside no window (see ``decide_refresh``).
RejectReason = Literal["unknown", "revoked", "expired", "clock_behind"]


class Reject(msgspec.Struct, frozen=True, kw_only=True, tag="reject"):
    """Refuse without writing anything."""

    reason: RejectReason


RefreshDecision = Rotate | Replay | RevokeForReuse | Reject


class AccessStatus(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The store's answer to the strict access check, in one read."""

    denied: bool
    session_found: bool
    session_revoked: bool = False
    session_created_at: float = 0.0
    access_floor: float = 0.0
    revoked_before: float | None = None
    #: The session's ``generation`` and when it began (its ``refreshed_at``).
    generation: int = 0
    refreshed_at: float = 0.0


class PurgeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What may go: every record is useless after these points (docs/design/lifecycle.md#purge)."""

    #: Sessions (and their refresh records) with ``expires_at <= sessions_before``.
    sessions_before: float
    #: Denied access ``jti`` entries whose token expired at or before this, and
    #: one-time claims (:meth:`Store.claim_once`) that lapsed at or before it.
    denials_before: float
    #: Subject watermarks older than any token that could still be alive.
    watermarks_before: float
    #: At most this many sessions per call, so no call holds a lock for long.
    limit: int = 1000


#: What a login beyond the limit does: end the oldest live sessions, or be refused.
SessionLimitMode = Literal["end_oldest", "refuse"]


class SessionLimit(msgspec.Struct, frozen=True, kw_only=True):
    """How many live sessions a subject may hold, checked by ``create_session``.

    "Live" means not revoked, not expired at ``now`` and not below the
    subject's watermark. The store counts and ends them in the same atomic
    section as the insert, so concurrent logins cannot both slip past it
    (see :func:`tokenlife.store.sessions_to_end`).
    """

    max_sessions: int
    on_excess: SessionLimitMode = "end_oldest"
    now: float
    #: The ``revoked_reason`` written on each session the limit ends.
    reason: str = "session_limit"


@runtime_checkable
class Store(Protocol):
    """Atomic storage for sessions, refresh records, denials and watermarks.

    Every method may raise :class:`~tokenlife.StoreError` (and only that) when
    the backend fails; the driver then fails closed.
    """

    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        """Insert a new session with its first (ACTIVE) refresh record.

        With ``limit``, atomically with the insert: the subject's live sessions
        that :func:`~tokenlife.store.sessions_to_end` picks are revoked (with
        ``limit.reason`` at ``limit.now``), or, for ``"refuse"``,
        :class:`~tokenlife.SessionLimitError` is raised and nothing is written.
        Returns the sids this call ended, oldest first (``()`` if none)."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        """Atomically read, :func:`decide_refresh`, and apply the decision."""

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        """One read answering every strict-mode question about an access token."""

    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        """Revoke a session (idempotent: the first revocation's time and reason
        stay) and optionally deny one access ``jti`` until its ``exp``.
        Returns the session as stored afterwards, or ``None`` if unknown."""

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        """Raise the subject's watermark to ``now`` and revoke all its sessions.
        Returns how many sessions this call revoked.

        With ``keep_sid`` ("log out everywhere else"): revoke every other
        unrevoked session of the subject, atomically, and leave the watermark
        alone, so the kept session and its tokens stay valid. A ``keep_sid``
        that is not a session of this subject spares nothing (every session is
        revoked) and still raises no watermark."""

    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        """Put one access ``jti`` on the denylist until ``until`` (its ``exp``).
        ``now`` is the caller's clock: a store that lets keys expire on their
        own measures the remaining ``until - now`` from it, never from its own."""

    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        """Atomically record ``key`` until ``until``: ``True`` if no claim of it
        holds at ``now`` (an earlier one with ``until > now``), ``False`` if one
        does — a replay. DPoP proof ids go through it; two processes sharing a
        store never both win one key. ``now`` is the caller's clock, as for
        :meth:`deny_access`; a lapsed claim may be taken again."""

    async def session(self, sid: str) -> SessionRecord | None:
        """The session as stored, or ``None``."""

    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        """The refresh record as stored, or ``None`` (diagnostics and tests).
        ``sid``, when known, lets a store that files records under their
        session read it directly; a record of another session is ``None``."""

    async def sessions(self, subject: str) -> list[SessionRecord]:
        """Every stored session of the subject, oldest first, revoked ones included."""

    async def purge(self, request: PurgeRequest) -> int:
        """Delete at most ``limit`` expired sessions with their records, plus
        stale denials and watermarks. Returns how many sessions went."""

    async def close(self) -> None:
        """Release connections; afterwards every operation raises ``StoreError``."""

    async def __aenter__(self) -> Store: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


__all__ = (
    "AccessStatus",
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
    "Store",
)
