"""The async driver: the only module that awaits. It owns the clock and the ids,
asks ``_machine`` what to do, and lets a Store do it atomically."""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import msgspec
from msgspec import UNSET

from ._b64 import b64url_encode
from ._binding import check_binding, confirmation
from ._claims import ACCESS_TYP, REFRESH_TYP, RESERVED_CLAIMS, Claims, TokenPair
from ._clock import system_time
from ._codec import Codec
from ._errors import (
    ClaimError,
    ConfigurationError,
    DPoPBindingError,
    ExpiredTokenError,
    ReuseDetectedError,
    RevokedTokenError,
    TokenError,
    TokenTypeError,
    UnknownTokenError,
)
from ._keys import KeySet
from ._machine import decide_access
from ._observe import Observer, begin, end, observe, observed
from ._policy import Policy
from ._store import (
    PurgeRequest,
    RefreshRecord,
    RefreshRequest,
    Reject,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionLimit,
    SessionRecord,
    Store,
)

logger: Final = logging.getLogger("tokenlife")

#: Claims every tokenlife access or refresh token carries; verification requires them.
ACCESS_REQUIRED_CLAIMS: Final = ("sub", "sid", "jti", "iat")
_ACCESS_REQUIRED: Final = ACCESS_REQUIRED_CLAIMS
#: Verified access tokens remembered by default (about 1 KiB each).
DEFAULT_VERIFY_CACHE: Final = 16384
_REFRESH_REQUIRED: Final = ("sub", "sid", "jti", "iat")
#: The ``revoked_reason`` (and event reason) of a session a login beyond
#: ``Policy.max_sessions`` ended.
SESSION_LIMIT_REASON: Final = "session_limit"
#: Sessions one purge call may remove: bounds how long a store stays busy.
PURGE_BATCH: Final = 1000
#: Bytes a session's later tokens may grow by over its first pair: the ``gen``
#: claim gains digits (up to 20 base64url characters for 19 more digits) and
#: ``"fresh":false`` is one byte longer than ``true``.
TOKEN_GROWTH: Final = 32

EventKind = Literal[
    "reuse_detected",
    "session_revoked",
    "subject_revoked",
    "refresh_after_expiry",
    "dpop_binding_refused",
]


class SecurityEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Something an operator wants to know about; sent to ``on_event`` and logged."""

    kind: EventKind
    at: float
    subject: str | None = None
    session_id: str | None = None
    token_id: str | None = None
    reason: str | None = None


#: Base-62 digits in ASCII order, so that strings of them compare as their values
#: (and no id starts with ``-``, which a command line would take for an option).
_SORTED_DIGITS: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def time_prefix(ms: int) -> str:
    """``ms`` as 8 base-62 digits (enough until the year 8800), in numeric string order."""
    digits = []
    for _ in range(8):
        ms, digit = divmod(ms, 62)
        digits.append(_SORTED_DIGITS[digit])
    return "".join(reversed(digits))


class RandomIds:
    """Unique ids: a millisecond time prefix, then 78 random bits from the OS CSPRNG.

    21 URL-safe characters: 8 base-62 digits of the time (later ids sort after
    earlier ones) and 13 base64url characters of randomness.
    Time order is for the stores: a B-tree keyed by these ids appends new
    records at its right edge, where the rows written together share pages,
    instead of dirtying a random page per insert (a page write costs far more
    than the row). The ids carry no secret — they travel inside signed tokens,
    which already say when they were issued — and 78 random bits per
    millisecond keep them unique. The random part is read 64 ids at a time:
    an issue or refresh draws three or four, and the syscalls showed in profiles.
    """

    __slots__ = ("_ms", "_prefix", "_random")

    _BATCH: Final = 64
    _RANDOM_CHARS: Final = 13

    def __init__(self) -> None:
        self._random: list[str] = []
        self._ms = -1
        self._prefix = ""

    def __call__(self) -> str:
        if not self._random:
            n = self._RANDOM_CHARS
            raw = b64url_encode(secrets.token_bytes(10 * self._BATCH)).decode("ascii")
            self._random = [raw[i : i + n] for i in range(0, len(raw) - n + 1, n)]
        ms = time.time_ns() // 1_000_000
        if ms != self._ms:
            self._ms, self._prefix = ms, time_prefix(ms)
        return self._prefix + self._random.pop()


class TokenAuthority:
    """Issue, verify, refresh, rotate and revoke tokens through a :class:`Store`.

    ``clock`` (seconds since the epoch) and ``ids`` (unique strings) are
    injectable so tests are deterministic; ``on_event`` receives every
    :class:`SecurityEvent` (exceptions it raises are logged, never propagated).
    ``observer`` (also settable later, as ``tokenlife.otel.instrument`` does)
    is told how every operation ended: metrics and spans, outside the core.

    ``verify_cache`` bounds how many verified access-token strings are kept so
    a token seen again skips signature and parsing. Expiry is re-checked on
    every call and, in ``strict`` mode, so is the store: a cache hit never
    outlives a revocation or an ``exp``. Only tokens that passed full
    verification are remembered, so garbage cannot fill it.
    """

    __slots__ = (
        "_clock",
        "_ids",
        "_on_event",
        "_registered",
        "_require_dpop",
        "_strict",
        "_verified",
        "_verify_cache",
        "codec",
        "observer",
        "policy",
        "store",
    )

    def __init__(
        self,
        store: Store,
        *,
        keys: KeySet,
        policy: Policy | None = None,
        clock: Callable[[], float] = system_time,
        ids: Callable[[], str] | None = None,
        on_event: Callable[[SecurityEvent], object] | None = None,
        verify_cache: int = DEFAULT_VERIFY_CACHE,
        observer: Observer | None = None,
    ) -> None:
        policy = policy if policy is not None else Policy()
        if verify_cache < 0:
            raise ConfigurationError("verify_cache must be 0 (off) or a positive size")
        if not keys.can_sign:
            raise ConfigurationError("a TokenAuthority needs a KeySet that can sign")
        self.store = store
        self.policy = policy
        self.codec = Codec(
            keys,
            issuer=policy.issuer,
            audience=policy.audience,
            leeway=policy.leeway,
            max_token_bytes=policy.max_token_bytes,
        )
        self._clock = clock
        self._ids = ids if ids is not None else RandomIds()
        #: Merged into every token's claims, so the codec need not copy them in.
        self._registered: dict[str, Any] = {}
        if policy.issuer is not None:
            self._registered["iss"] = policy.issuer
        if policy.audience is not None:
            audience = policy.audience
            self._registered["aud"] = audience if isinstance(audience, str) else list(audience)
        self._on_event = on_event
        self._strict = policy.revocation == "strict"
        self._require_dpop = policy.require_dpop
        # Oldest first; not a plain dict, whose first key is found by scanning
        # past every key deleted before it (tens of µs once it is full).
        self._verified: OrderedDict[str | bytes, Claims] = OrderedDict()
        self._verify_cache = verify_cache
        self.observer = observer

    def now(self) -> float:
        """The authority's clock (injected or the system's): what "now" means here."""
        return self._clock()

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    # -- issue ------------------------------------------------------------------

    @observed("issue")
    async def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        csrf: bool = False,
        metadata: Mapping[str, str] | None = None,
        jkt: str | None = None,
    ) -> TokenPair:
        """Start a session for ``subject`` (a login) and return its first pair.

        ``claims`` are custom claims carried by every access token of the
        session; ``csrf=True`` adds a per-session double-submit CSRF value.
        With ``Policy.max_sessions`` the store ends the subject's oldest live
        sessions atomically with this login (a ``session_revoked`` event each,
        reason ``session_limit``), or refuses it (:class:`SessionLimitError`,
        nothing stored) when ``on_session_limit="refuse"``.
        ``jkt``, the thumbprint of a key the login request proved (DPoP),
        binds the session to that key: its tokens carry ``cnf.jkt`` and its
        token type is ``DPoP``.
        """
        if not isinstance(subject, str) or not subject:
            raise ClaimError("subject must be a non-empty string", code="bad_subject")
        template = _access_template(scopes, claims)
        if csrf:
            template["csrf"] = self._ids()
        if jkt is not None:
            template["cnf"] = confirmation(jkt)
        elif self._require_dpop:
            raise DPoPBindingError("the policy requires DPoP: a login needs a proven key")
        now = self._clock()
        policy = self.policy
        session = SessionRecord(
            sid=self._ids(),
            subject=subject,
            created_at=now,
            expires_at=now + policy.session_ttl,
            current_jti=self._ids(),
            refreshed_at=now,
            access_claims=template,
            metadata=dict(metadata or {}),
        )
        first = RefreshRecord(
            jti=session.current_jti,
            sid=session.sid,
            subject=subject,
            issued_at=now,
            expires_at=min(now + policy.refresh_ttl, session.expires_at),
        )
        pair = self._pair(session, first, now, fresh=fresh)
        # Refused before anything is stored: a token over the limit is one
        # verify and refresh would refuse, so the session could never be used.
        limit = policy.max_token_bytes
        size = max(len(pair.access_token), len(pair.refresh_token)) + TOKEN_GROWTH
        if size > limit:
            raise ClaimError(
                f"this session's tokens would take up to {size} bytes, over the "
                f"{limit}-byte limit (Policy.max_token_bytes); shorten the subject "
                "or the custom claims",
                code="token_too_large",
            )
        cap: SessionLimit | None = None
        if policy.max_sessions is not None:
            cap = SessionLimit(
                max_sessions=policy.max_sessions,
                on_excess=policy.on_session_limit,
                now=now,
                reason=SESSION_LIMIT_REASON,
            )
        ended = await self.store.create_session(session, first, limit=cap)
        for sid in ended:
            self._emit(
                "session_revoked", now, subject=subject, session_id=sid, reason=SESSION_LIMIT_REASON
            )
        return pair

    # -- verify -----------------------------------------------------------------

    async def verify(self, token: str | bytes, jkt: str | None = None) -> Claims:
        """The claims of a valid access token, else a :class:`TokenError`.

        In ``strict`` mode one store read also rules out a denied ``jti``, a
        revoked session, a superseded token and "log out everywhere".
        Never writes. ``jkt`` is the key the request proved (DPoP): a bound
        token needs its own, an unbound one none (:class:`DPoPBindingError`).
        """
        # The observer seam inline, not @observed: this is the hottest path.
        observer = self.observer
        handle = None if observer is None else begin(observer, "verify")
        try:
            now = self._clock()
            claims = self._decode_access(token, now)
            if jkt is not None or claims.cnf is not UNSET or self._require_dpop:
                check_binding(claims, jkt, required=self._require_dpop)
            if self._strict:
                await self._check_store(claims, now)
        except BaseException as exc:
            if observer is not None:
                end(observer, handle, None, exc)
            raise
        if observer is not None:
            end(observer, handle, claims, None)
        return claims

    def verify_stateless(self, token: str | bytes, jkt: str | None = None) -> Claims:
        """Signature, claims and DPoP binding only; no store. Logout takes effect at ``exp``."""
        observer = self.observer
        if observer is None:
            return self._bound(self._decode_access(token, self._clock()), jkt)
        handle = begin(observer, "verify_stateless")
        try:
            claims = self._bound(self._decode_access(token, self._clock()), jkt)
        except BaseException as exc:
            end(observer, handle, None, exc)
            raise
        end(observer, handle, claims, None)
        return claims

    def _bound(self, claims: Claims, jkt: str | None) -> Claims:
        if jkt is not None or claims.cnf is not UNSET or self._require_dpop:
            check_binding(claims, jkt, required=self._require_dpop)
        return claims

    def _decode_access(self, token: str | bytes, now: float) -> Claims:
        cached = self._verified.get(token)
        # nbf and iat only grow more valid with time; exp is the one to re-check.
        if cached is not None:
            if cached.exp > now - self.codec.leeway:
                return cached
            del self._verified[token]
        claims = self.codec.decode(token, typ=ACCESS_TYP, now=now, require=_ACCESS_REQUIRED)
        if self._verify_cache:
            verified = self._verified
            if len(verified) >= self._verify_cache:
                verified.popitem(last=False)  # the oldest entry
            verified[token] = claims
        return claims

    async def _check_store(self, claims: Claims, now: float) -> None:
        status = await self.store.access_status(
            claims.jti,  # type: ignore[arg-type]  # required above
            claims.sid,  # type: ignore[arg-type]
            claims.sub,  # type: ignore[arg-type]
        )
        gen = claims.gen
        reason = decide_access(
            status,
            iat=claims.iat,  # type: ignore[arg-type]
            now=now,
            grace=self.policy.grace,
            generation=None if gen is UNSET else gen,
            supersede=self.policy.access_floor_on_refresh,
        )
        if reason is not None:
            if reason == "unknown_token":
                raise UnknownTokenError("the token's session is unknown")
            raise RevokedTokenError("the token has been revoked", code=reason)

    # -- refresh ----------------------------------------------------------------

    async def refresh(self, refresh_token: str | bytes, jkt: str | None = None) -> TokenPair:
        """Rotate a refresh token: a new access token and the successor refresh token.

        Inside the grace window a replay of the parent returns the same
        successor; any other replay revokes the whole session
        (:class:`ReuseDetectedError`). A token failing signature, type, issuer,
        audience or time checks never reaches the store.

        ``jkt`` is the key the refresh request proved (DPoP). A bound session's
        refresh needs a proof by its own key: without one, or with another key,
        it is refused with a ``dpop_binding_refused`` event, before the store
        and without revoking the session — a thief without the key can do
        nothing with the token, and must not be able to log its owner out.
        An unbound session stays unbound (binding is decided at login).
        """
        # The observer seam, without @observed's argument forwarding: a hot path.
        observer = self.observer
        if observer is None:
            return await self._refresh(refresh_token, jkt)
        return await observe(observer, "refresh", self._refresh(refresh_token, jkt))

    async def _refresh(self, refresh_token: str | bytes, jkt: str | None = None) -> TokenPair:
        now = self._clock()
        try:
            claims = self.codec.decode(
                refresh_token, typ=REFRESH_TYP, now=now, require=_REFRESH_REQUIRED
            )
        except ExpiredTokenError:
            self._emit("refresh_after_expiry", now)
            raise
        if claims.cnf is not UNSET or self._require_dpop:
            try:
                # An unbound session refreshed with a proof stays unbound: no jkt to compare.
                proven = jkt if claims.cnf is not UNSET else None
                check_binding(claims, proven, required=self._require_dpop)
            except DPoPBindingError as exc:
                self._emit(
                    "dpop_binding_refused",
                    now,
                    subject=claims.sub,  # type: ignore[arg-type]  # required above
                    session_id=claims.sid,  # type: ignore[arg-type]
                    token_id=claims.jti,  # type: ignore[arg-type]
                    reason=exc.code,
                )
                raise
        request = RefreshRequest(
            jti=claims.jti,  # type: ignore[arg-type]  # required above
            sid=claims.sid,  # type: ignore[arg-type]
            subject=claims.sub,  # type: ignore[arg-type]
            now=now,
            grace=self.policy.grace,
            successor_jti=self._ids(),
            refresh_ttl=self.policy.refresh_ttl,
            raise_access_floor=self.policy.access_floor_on_refresh,
        )
        decision = await self.store.refresh(request)
        if isinstance(decision, (Rotate, Replay)):
            return self._pair(decision.session, decision.successor, now, fresh=False)
        if isinstance(decision, RevokeForReuse):
            self._emit(
                "reuse_detected",
                now,
                subject=request.subject,
                session_id=request.sid,
                token_id=request.jti,
            )
            raise ReuseDetectedError(
                "a rotated refresh token was presented again; the session is revoked"
            )
        return self._reject(decision, request)

    def _reject(self, decision: Reject, request: RefreshRequest) -> TokenPair:
        if decision.reason == "expired":
            self._emit("refresh_after_expiry", request.now, session_id=request.sid)
            raise ExpiredTokenError("the refresh token or its session has expired")
        if decision.reason == "revoked":
            raise RevokedTokenError("the session has been revoked")
        if decision.reason == "clock_behind":
            logger.warning(
                "tokenlife refresh refused: token %s was rotated after this clock's now",
                request.jti,
            )
            raise RevokedTokenError(
                "the refresh token was rotated at a later time than this clock reads",
                code="clock_behind",
            )
        raise UnknownTokenError("the refresh token is not known to the store")

    # -- revoke -----------------------------------------------------------------

    @observed("revoke")
    async def revoke(self, token: str | bytes) -> None:
        """Log out with a token: its session dies; an access ``jti`` is also denied.

        Idempotent. An invalid, expired or unknown token is silently ignored
        (RFC 7009 §2.2); only a store failure raises.
        """
        now = self._clock()
        claims: Claims | None = None
        for typ in (ACCESS_TYP, REFRESH_TYP):
            try:
                claims = self.codec.decode(token, typ=typ, now=now, require=("sid", "jti"))
            except TokenTypeError:
                continue
            except TokenError:
                return
            break
        if claims is None:
            return
        deny = (claims.jti, float(claims.exp)) if typ == ACCESS_TYP else None
        await self._revoke_session(claims.sid, now, "logout", deny)  # type: ignore[arg-type]

    @observed("revoke_session")
    async def revoke_session(self, sid: str, *, reason: str = "revoked") -> bool:
        """Revoke one session. ``True`` if it exists (revoked now or before)."""
        return await self._revoke_session(sid, self._clock(), reason, None) is not None

    @observed("revoke_session")
    async def end_session(self, sid: str, *, reason: str = "revoked") -> bool:
        """Revoke one session. ``True`` only if this call ended it (it was live until now)."""
        return await self._revoke_session(sid, self._clock(), reason, None) is True

    async def _revoke_session(
        self, sid: str, now: float, reason: str, deny: tuple[str, float] | None
    ) -> bool | None:
        """``True``: this call ended the session; ``False``: it was over; ``None``: unknown."""
        session = await self.store.revoke_session(sid, now=now, reason=reason, deny=deny)
        if session is None:
            return None
        if session.revoked_at == now:
            self._emit(
                "session_revoked", now, subject=session.subject, session_id=sid, reason=reason
            )
            return True
        return False

    @observed("revoke_subject")
    async def revoke_subject(
        self, subject: str, *, reason: str = "revoked_everywhere", keep_sid: str | None = None
    ) -> int:
        """Log ``subject`` out everywhere. Returns how many sessions this revoked.

        ``keep_sid`` ("log out everywhere else") spares that one session: every
        other one is revoked in one atomic store call, and no watermark is
        raised, so the kept session's tokens stay valid. The event then names
        the kept session in ``session_id``.
        """
        now = self._clock()
        count = await self.store.revoke_subject(subject, now=now, reason=reason, keep_sid=keep_sid)
        self._emit("subject_revoked", now, subject=subject, session_id=keep_sid, reason=reason)
        return count

    # -- housekeeping -----------------------------------------------------------

    async def sessions(self, subject: str, *, include_revoked: bool = False) -> list[SessionRecord]:
        """The subject's sessions (live ones unless ``include_revoked``), oldest first."""
        now = self._clock()
        found = await self.store.sessions(subject)
        if include_revoked:
            return found
        return [s for s in found if s.revoked_at is None and s.expires_at > now]

    async def purge(self, *, batch: int = PURGE_BATCH, max_batches: int | None = None) -> int:
        """Delete what can no longer matter, in batches. Returns sessions removed.

        Sessions go only after their absolute expiry (plus leeway), so a late
        replay is still recognised as a replay until then.
        """
        now = self._clock()
        leeway = self.policy.leeway
        request = PurgeRequest(
            sessions_before=now - leeway,
            denials_before=now - leeway,
            watermarks_before=now - self.policy.session_ttl - leeway,
            limit=batch,
        )
        total, batches = 0, 0
        while max_batches is None or batches < max_batches:
            removed = await self.store.purge(request)
            total += removed
            batches += 1
            if removed < batch:
                break
        return total

    # -- internals --------------------------------------------------------------

    def _pair(
        self, session: SessionRecord, refresh: RefreshRecord, now: float, *, fresh: bool
    ) -> TokenPair:
        # NumericDate is whole seconds here (PyJWT and others truncate
        # fractions): iat rounds down and exp rounds up, so no token lives
        # less than configured — except that none outlives its session, so an
        # exp the session's end caps rounds down instead.
        iat = math.floor(now)
        session_end = math.floor(session.expires_at)
        access_exp = min(math.ceil(now + self.policy.access_ttl), session_end)
        access = self.codec.encode(
            {
                **session.access_claims,
                "sub": session.subject,
                "sid": session.sid,
                "jti": self._ids(),
                "iat": iat,
                "exp": access_exp,
                "fresh": fresh,
                "gen": session.generation,
                **self._registered,
            },
            typ=ACCESS_TYP,
        )
        refresh_exp = min(math.ceil(refresh.expires_at), session_end)
        refresh_token = self.codec.encode(
            {
                "sub": refresh.subject,
                "sid": refresh.sid,
                "jti": refresh.jti,
                "iat": math.floor(refresh.issued_at),
                "exp": refresh_exp,
                **self._registered,
                # The session's CSRF value, so a refresh by cookie is checked
                # against the session before the store is touched.
                **_csrf_claim(session),
                # The binding, so a refresh is checked against the key before the store.
                **_cnf_claim(session),
            },
            typ=REFRESH_TYP,
        )
        csrf = session.access_claims.get("csrf")
        return TokenPair(
            token_type="DPoP" if "cnf" in session.access_claims else "bearer",
            access_token=access,
            refresh_token=refresh_token,
            session_id=session.sid,
            access_expires_at=access_exp,
            refresh_expires_at=refresh_exp,
            expires_in=max(0, int(access_exp - now)),
            csrf_token=csrf if isinstance(csrf, str) else None,
        )

    def _emit(self, kind: EventKind, at: float, **details: str | None) -> None:
        event = SecurityEvent(kind=kind, at=at, **details)
        level = logging.WARNING if kind == "reuse_detected" else logging.INFO
        logger.log(level, "tokenlife %s %s", kind, {k: v for k, v in details.items() if v})
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                logger.exception("tokenlife on_event hook failed for %s", kind)


def _csrf_claim(session: SessionRecord) -> dict[str, str]:
    csrf = session.access_claims.get("csrf")
    return {"csrf": csrf} if isinstance(csrf, str) else {}


def _cnf_claim(session: SessionRecord) -> dict[str, Any]:
    cnf = session.access_claims.get("cnf")
    return {"cnf": cnf} if cnf is not None else {}


def _access_template(scopes: Iterable[str], claims: Mapping[str, Any] | None) -> dict[str, Any]:
    template: dict[str, Any] = {}
    if claims:
        clash = RESERVED_CLAIMS.intersection(claims)
        if clash:
            raise ClaimError(
                f"custom claims may not set {sorted(clash)}: tokenlife sets them",
                code="reserved_claim",
            )
        try:
            template = msgspec.json.decode(msgspec.json.encode(dict(claims)))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ClaimError(f"custom claims must be JSON values: {exc}") from None
    if isinstance(scopes, str):
        raise ClaimError("scopes must be an iterable of strings, not one string")
    scope_list = list(scopes)
    for scope in scope_list:
        if not isinstance(scope, str) or not scope or any(c.isspace() for c in scope):
            raise ClaimError(f"invalid scope {scope!r}", code="bad_scope")
    if scope_list:
        template["scope"] = " ".join(dict.fromkeys(scope_list))
    return template


__all__ = ("ACCESS_REQUIRED_CLAIMS", "RandomIds", "SecurityEvent", "TokenAuthority")
