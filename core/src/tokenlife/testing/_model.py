"""A reference model of the token lifecycle, re-derived from docs/design/lifecycle.md.

Plain Python and deliberately naive: dictionaries, no atomicity, no store
protocol, nothing imported from ``tokenlife`` (in particular not
``tokenlife._machine``). It answers "what should happen now?" for every
operation the stateful test performs, and keeps what the store should hold
afterwards so the test can compare field by field.

Two readings of the design document that the model makes explicit:

* Token times are whole seconds (RFC 7519 NumericDate as tokenlife emits
  them): ``iat`` is the record's time rounded down and ``exp`` rounded up,
  so no token lives less than configured. Supersession does not depend on
  them: every access token carries its session's generation (``gen``), one
  generation behind the current passes only while the rotation that ended
  it is younger than the grace window, any older one is superseded.
* The subject watermark is compared with the session's ``created_at``, as
  the implementation does; the document says the token's ``iat``, which with
  whole seconds would also kill a login made in the same second right after
  "log out everywhere". No observable difference otherwise: the sessions the
  watermark covers are revoked by the same call.
* Signature/type/issuer/audience/time checks come before the store
  ("Refresh" preamble), so a refresh token past its own ``exp`` (plus
  leeway) is "expired" even if its session was revoked meanwhile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

OK = "ok"
EXPIRED = "ExpiredTokenError:expired"
UNKNOWN = "UnknownTokenError:unknown_token"
REVOKED = "RevokedTokenError:revoked"
SUPERSEDED = "RevokedTokenError:superseded"
REUSE = "ReuseDetectedError:reuse_detected"
BAD_SIGNATURE = "SignatureError:bad_signature"
WRONG_TYPE = "TokenTypeError:wrong_type"
CLOCK_BEHIND = "RevokedTokenError:clock_behind"

#: The revocation reasons the driver writes (TokenAuthority's defaults).
LOGOUT = "logout"
REVOKED_REASON = "revoked"
EVERYWHERE = "revoked_everywhere"
REUSE_REASON = "reuse_detected"


@dataclass(frozen=True)
class Config:
    access_ttl: float = 60.0
    refresh_ttl: float = 600.0
    session_ttl: float = 1800.0
    grace: float = 10.0
    leeway: float = 0.0
    floor_on_refresh: bool = True
    issuer: str = "https://issuer.test"
    audience: str = "api"


@dataclass
class MSession:
    sid: str
    subject: str
    created_at: float
    expires_at: float
    refreshed_at: float
    #: Refresh jtis, oldest first; the last one is the current (ACTIVE) token.
    chain: list[str]
    access_claims: dict[str, object]
    metadata: dict[str, str] = field(default_factory=dict)
    access_floor: float = 0.0
    revoked_at: float | None = None
    revoked_reason: str | None = None
    purged: bool = False
    #: Rotations so far; an access token is minted in the current one.
    generation: int = 0

    @property
    def jkt(self) -> str | None:
        """The DPoP key thumbprint the session is bound to (its ``cnf.jkt``), if any."""
        cnf = self.access_claims.get("cnf")
        return cnf.get("jkt") if isinstance(cnf, dict) else None

    @property
    def current(self) -> str:
        return self.chain[-1]


@dataclass
class MRefresh:
    jti: str
    sid: str
    subject: str
    issued_at: float
    expires_at: float
    parent: str | None
    token: str
    rotated_at: float | None = None
    successor: str | None = None
    #: Its session's absolute end: no token's ``exp`` passes it.
    session_end: float = math.inf

    @property
    def active(self) -> bool:
        return self.rotated_at is None

    @property
    def exp_claim(self) -> int:
        """Rounded up (no token lives less than configured), but never past its
        session's end, which rounds down."""
        return int(min(math.ceil(self.expires_at), math.floor(self.session_end)))

    @property
    def iat_claim(self) -> int:
        return math.floor(self.issued_at)


@dataclass
class MAccess:
    jti: str
    sid: str
    subject: str
    iat: int
    exp: int
    fresh: bool
    token: str
    gen: int = 0


DecisionKind = Literal["expired", "unknown", "revoked", "rotate", "replay", "reuse", "clock_behind"]

_OUTCOME: dict[DecisionKind, str] = {
    "expired": EXPIRED,
    "unknown": UNKNOWN,
    "revoked": REVOKED,
    "rotate": OK,
    "replay": OK,
    "reuse": REUSE,
    "clock_behind": CLOCK_BEHIND,
}


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    #: The record the token names (when it exists).
    jti: str | None = None
    #: For ``replay``: the successor handed back again.
    successor: str | None = None

    @property
    def outcome(self) -> str:
        return _OUTCOME[self.kind]

    @property
    def writes(self) -> bool:
        return self.kind in ("rotate", "reuse")


@dataclass
class Model:
    config: Config
    now: float
    sessions: dict[str, MSession] = field(default_factory=dict)
    refresh: dict[str, MRefresh] = field(default_factory=dict)
    access: dict[str, MAccess] = field(default_factory=dict)
    #: Denied access jti -> its exp.
    denied: dict[str, float] = field(default_factory=dict)
    #: Denials a purge was allowed to drop (a store may or may not keep them).
    dropped_denials: set[str] = field(default_factory=set)
    watermarks: dict[str, float] = field(default_factory=dict)
    dropped_watermarks: dict[str, float] = field(default_factory=dict)

    # -- time ---------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds

    def token_expired(self, exp_claim: float) -> bool:
        """The codec's check: ``exp`` has passed, leeway included."""
        return exp_claim <= self.now - self.config.leeway

    # -- lookups --------------------------------------------------------------------

    def stored(self, sid: str) -> MSession | None:
        session = self.sessions.get(sid)
        return session if session is not None and not session.purged else None

    def session_list(self) -> list[MSession]:
        return list(self.sessions.values())

    def subjects(self) -> set[str]:
        return {s.subject for s in self.sessions.values()}

    def is_live(self, sid: str) -> bool:
        """Open, not past its end, and its newest token has not expired: it may still refresh."""
        session = self.sessions[sid]
        newest = self.refresh[session.current]
        return (
            session.revoked_at is None
            and not session.purged
            and self.now < min(session.expires_at, newest.expires_at)
            and not self.token_expired(newest.exp_claim)
        )

    def revoked_sids(self) -> set[str]:
        return {s.sid for s in self.sessions.values() if s.revoked_at is not None}

    # -- issue --------------------------------------------------------------------

    def new_session_times(self) -> tuple[float, float]:
        """(session expires_at, first refresh record expires_at) for a login now."""
        expires = self.now + self.config.session_ttl
        return expires, min(self.now + self.config.refresh_ttl, expires)

    def access_times(self, sid: str) -> tuple[int, int]:
        """(iat, exp) of an access token minted now for ``sid``."""
        session = self.sessions[sid]
        exp = min(math.ceil(self.now + self.config.access_ttl), math.floor(session.expires_at))
        return math.floor(self.now), exp

    def add_session(
        self,
        *,
        sid: str,
        subject: str,
        first_jti: str,
        first_token: str,
        access_claims: dict[str, object],
        metadata: dict[str, str],
    ) -> MSession:
        assert sid not in self.sessions and first_jti not in self.refresh
        expires, first_expires = self.new_session_times()
        session = MSession(
            sid=sid,
            subject=subject,
            created_at=self.now,
            expires_at=expires,
            refreshed_at=self.now,
            chain=[first_jti],
            access_claims=access_claims,
            metadata=metadata,
        )
        self.sessions[sid] = session
        self.refresh[first_jti] = MRefresh(
            jti=first_jti,
            sid=sid,
            subject=subject,
            issued_at=self.now,
            expires_at=first_expires,
            parent=None,
            token=first_token,
            session_end=expires,
        )
        return session

    def add_access(
        self, *, jti: str, sid: str, fresh: bool, token: str, gen: int | None = None
    ) -> MAccess:
        assert jti not in self.access
        iat, exp = self.access_times(sid)
        minted = MAccess(
            jti=jti,
            sid=sid,
            subject=self.sessions[sid].subject,
            iat=iat,
            exp=exp,
            fresh=fresh,
            token=token,
            gen=self.sessions[sid].generation if gen is None else gen,
        )
        self.access[jti] = minted
        return minted

    # -- verify (strict) ---------------------------------------------------------------

    def verify(self, jti: str) -> str:
        """docs/design/lifecycle.md#verify; never changes anything."""
        token = self.access[jti]
        if self.token_expired(token.exp):
            return EXPIRED
        session = self.stored(token.sid)
        if session is None or session.subject != token.subject:
            return UNKNOWN
        if jti in self.denied or session.revoked_at is not None:
            return REVOKED
        mark = self.watermarks.get(token.subject)
        if mark is not None and session.created_at < mark:
            return REVOKED
        if not self.config.floor_on_refresh or token.gen >= session.generation:
            return OK
        elapsed = self.now - session.refreshed_at
        if token.gen == session.generation - 1 and 0 <= elapsed < self.config.grace:
            return OK
        return SUPERSEDED

    # -- refresh ------------------------------------------------------------------------

    def decide_refresh(self, jti: str, *, sid: str, subject: str, exp_claim: float) -> Decision:
        """docs/design/lifecycle.md#refresh, preamble and steps 1-6, for a well-signed token."""
        if self.token_expired(exp_claim):
            return Decision("expired")
        record = self.refresh.get(jti)
        session = self.stored(record.sid) if record is not None else None
        # 1. unknown, or the token's sid/sub disagree with the record
        if record is None or session is None or record.sid != sid or record.subject != subject:
            return Decision("unknown")
        # 2. revoked session or below the subject's watermark
        mark = self.watermarks.get(subject)
        if session.revoked_at is not None or (mark is not None and session.created_at < mark):
            return Decision("revoked", jti)
        # 3. expired session or record: nothing written
        if self.now >= session.expires_at or self.now >= record.expires_at:
            return Decision("expired", jti)
        # 4. the active token rotates
        if record.active:
            return Decision("rotate", jti)
        # 5. the immediate parent, inside grace (never a negative elapsed time)
        assert record.rotated_at is not None
        if self.now < record.rotated_at:
            return Decision("clock_behind", jti)
        if (
            self.now - record.rotated_at <= self.config.grace
            and record.successor == session.current
        ):
            return Decision("replay", jti, successor=record.successor)
        # 6. anything else rotated: reuse
        return Decision("reuse", jti)

    def successor_times(self, parent_jti: str) -> tuple[float, float]:
        """(issued_at, expires_at) of the successor a rotation now creates."""
        session = self.sessions[self.refresh[parent_jti].sid]
        return self.now, min(self.now + self.config.refresh_ttl, session.expires_at)

    def rotate(self, parent_jti: str, new_jti: str, token: str) -> MRefresh:
        parent = self.refresh[parent_jti]
        session = self.sessions[parent.sid]
        assert parent.active and session.current == parent_jti
        assert new_jti not in self.refresh
        issued, expires = self.successor_times(parent_jti)
        successor = MRefresh(
            jti=new_jti,
            sid=parent.sid,
            subject=parent.subject,
            issued_at=issued,
            expires_at=expires,
            parent=parent_jti,
            token=token,
            session_end=session.expires_at,
        )
        self.refresh[new_jti] = successor
        parent.rotated_at = self.now
        parent.successor = new_jti
        session.chain.append(new_jti)
        session.refreshed_at = self.now
        session.generation += 1
        if self.config.floor_on_refresh:
            session.access_floor = max(session.access_floor, float(math.floor(self.now)))
        return successor

    # -- revoke ---------------------------------------------------------------------------

    def _revoke(self, session: MSession, reason: str) -> bool:
        """Revoke if open; the first revocation's time and reason stay. True if it changed."""
        if session.revoked_at is not None:
            return False
        session.revoked_at = self.now
        session.revoked_reason = reason
        return True

    def reuse_detected(self, jti: str) -> None:
        session = self.stored(self.refresh[jti].sid)
        assert session is not None
        self._revoke(session, REUSE_REASON)

    def revoke_token(self, *, kind: Literal["access", "refresh"], jti: str) -> bool:
        """``revoke(token)`` for a genuine token. True if the store should change at all."""
        if kind == "access":
            token = self.access[jti]
            sid, exp = token.sid, float(token.exp)
        else:
            record = self.refresh[jti]
            sid, exp = record.sid, float(record.exp_claim)
        if self.token_expired(exp):
            return False  # RFC 7009: an invalid (expired) token is silently ignored
        changed = False
        if kind == "access" and jti not in self.denied:
            self.denied[jti] = exp
            self.dropped_denials.discard(jti)
            changed = True
        session = self.stored(sid)
        if session is not None:
            changed = self._revoke(session, LOGOUT) or changed
        return changed

    def logout(self, sid: str) -> bool:
        """The web layer's logout with an authentic token (expired or not): its session
        ends, nothing is denied. True if the store should change."""
        session = self.stored(sid)
        return session is not None and self._revoke(session, LOGOUT)

    def revoke_session(self, sid: str) -> bool:
        session = self.stored(sid)
        if session is None:
            return False
        self._revoke(session, REVOKED_REASON)
        return True

    def revoke_subject(self, subject: str) -> int:
        self.watermarks[subject] = max(self.now, self.watermarks.get(subject, self.now))
        self.dropped_watermarks.pop(subject, None)
        count = 0
        for session in self.sessions.values():
            if session.subject == subject and not session.purged:
                count += self._revoke(session, EVERYWHERE)
        return count

    # -- boundaries (for tests that want to act exactly at one) ----------------------------

    def edge(self, kind: str, sid: str) -> float | None:
        """When something about session ``sid`` changes, if it lies ahead:

        ``grace`` the latest rotation's grace window ends; ``floor`` access
        tokens of the generation before the latest refresh die; ``access exp``/``refresh
        exp`` the newest token passes ``exp`` plus leeway; ``record end`` the
        newest refresh record expires in the store; ``session end`` the
        session's absolute expiry; ``purge`` the next moment a purge may take
        any session.
        """
        config, session = self.config, self.sessions[sid]
        chain = session.chain
        if kind == "grace":
            rotated = self.refresh[chain[-2]].rotated_at if len(chain) > 1 else None
            return None if rotated is None else rotated + config.grace
        if kind == "floor":
            return session.refreshed_at + config.grace if session.generation else None
        if kind == "access exp":
            mine = [a.exp for a in self.access.values() if a.sid == sid]
            return mine[-1] + config.leeway if mine else None
        if kind == "refresh exp":
            return self.refresh[chain[-1]].exp_claim + config.leeway
        if kind == "record end":
            return self.refresh[chain[-1]].expires_at
        if kind == "session end":
            return session.expires_at
        assert kind == "purge", kind
        ends = [
            s.expires_at + config.leeway
            for s in self.sessions.values()
            if not s.purged and s.expires_at + config.leeway > self.now
        ]
        return min(ends, default=None)

    # -- listing and purge ----------------------------------------------------------------

    def live_sessions(self, subject: str) -> list[str]:
        return [
            s.sid
            for s in self.sessions.values()
            if s.subject == subject
            and not s.purged
            and s.revoked_at is None
            and s.expires_at > self.now
        ]

    def stored_sessions(self, subject: str) -> list[str]:
        return [s.sid for s in self.sessions.values() if s.subject == subject and not s.purged]

    def purge(self) -> int:
        """Everything past its usefulness goes; returns the sessions removed."""
        leeway = self.config.leeway
        removed = 0
        for session in self.sessions.values():
            if not session.purged and session.expires_at <= self.now - leeway:
                session.purged = True
                removed += 1
        for jti, exp in list(self.denied.items()):
            if exp <= self.now - leeway:
                del self.denied[jti]
                self.dropped_denials.add(jti)
        for subject, mark in list(self.watermarks.items()):
            if mark <= self.now - self.config.session_ttl - leeway:
                del self.watermarks[subject]
                self.dropped_watermarks[subject] = mark
        return removed


__all__ = (
    "BAD_SIGNATURE",
    "CLOCK_BEHIND",
    "EXPIRED",
    "OK",
    "REUSE",
    "REVOKED",
    "SUPERSEDED",
    "UNKNOWN",
    "WRONG_TYPE",
    "Config",
    "Decision",
    "MAccess",
    "MRefresh",
    "MSession",
    "Model",
)
