"""What every step of the lifecycle driver stands on: one authority over one
store, its reference model, and the checks on every pair it hands out.

:class:`DriverBase` owns a blocking portal (an event loop in a thread), one
fresh store from the caller's factory, a frozen clock and sequential ids; it
reads the store back (:meth:`DriverBase._snapshot`) and checks a returned
pair against the model. The operations themselves live in :mod:`._steps`
and :mod:`._refreshes`; :class:`tokenlife.testing.lifecycle.Driver` puts
them together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, ExitStack
from functools import partial
from typing import Any, Literal, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from tokenlife import (
    ACCESS_TYP,
    REFRESH_TYP,
    Claims,
    Codec,
    KeySet,
    Policy,
    SecurityEvent,
    TokenAuthority,
    TokenError,
    TokenPair,
)
from tokenlife.store import Store

from . import _checks as checks
from . import _model as m
from . import _ops as ops
from ._fakes import FrozenClock, SequentialIds

T = TypeVar("T")
#: What a client does with a token, as the front door sees it.
Action = Literal["verify", "refresh", "revoke"]

#: Opens a fresh, empty store each time it is called (one per example).
LifecycleStoreFactory = Callable[[], AbstractAsyncContextManager[Store]]

KEYS = KeySet.from_secret(b"property-tests-secret-of-32-bytes!!", kid="k1")
#: The same ``kid``, another secret: tokens it signs must fail the signature check.
FORGER_KEYS = KeySet.from_secret(b"a-forger-secret-that-is-32-bytes!!!", kid="k1")
UNKNOWN_SID = "sid-nobody-knows"
#: The revoke_session task of a concurrent step, among the refresh tasks.
REVOKE = "<revoke_session>"


def outcome_of(result: object) -> str:
    """The outcome class of one call: ``ok`` or ``<ErrorClass>:<code>``."""
    if isinstance(result, TokenError):
        return f"{type(result).__name__}:{result.code}"
    return m.OK


class TrackedIds:
    """Sequential ids that remember what they handed out, so a step's new ids
    can be checked for stray records."""

    def __init__(self) -> None:
        self._ids = SequentialIds("id")
        self.issued: list[str] = []

    def __call__(self) -> str:
        value = self._ids()
        self.issued.append(value)
        return value


class DriverBase:
    """A real authority over a fresh store, shadowed by :class:`model.Model`."""

    def __init__(
        self, store_factory: LifecycleStoreFactory, config: m.Config, *, backend: str = "asyncio"
    ) -> None:
        self._stack = ExitStack()
        try:
            self.portal: BlockingPortal = self._stack.enter_context(start_blocking_portal(backend))
            self.store: Store = self._stack.enter_context(
                self.portal.wrap_async_context_manager(store_factory())
            )
        except BaseException:
            self._stack.close()
            raise
        self.forger = Codec(FORGER_KEYS, issuer=config.issuer, audience=config.audience)
        #: The operations so far, in words (what a failure tells).
        self.story: list[str] = []
        self.clock = FrozenClock()
        self.ids = TrackedIds()
        self.events: list[SecurityEvent] = []
        self.auth = TokenAuthority(
            self.store,
            keys=KEYS,
            policy=Policy(
                issuer=config.issuer,
                audience=config.audience,
                access_ttl=config.access_ttl,
                refresh_ttl=config.refresh_ttl,
                session_ttl=config.session_ttl,
                grace=config.grace,
                leeway=config.leeway,
                access_floor_on_refresh=config.floor_on_refresh,
            ),
            clock=self.clock,
            ids=self.ids,
            on_event=self.events.append,
        )
        self.model = m.Model(config, now=self.clock.now)
        self.trace: list[str] = []
        #: What this run reached (decision kinds, outcome classes), for coverage.
        self.tally: Counter[str] = Counter()
        #: Refresh jtis and access jtis in issue order (what indices pick from).
        self.refresh_order: list[str] = []
        self.access_order: list[str] = []
        #: Where the current step's ids and security events begin.
        self._step_start = 0
        self._events_start = 0
        #: The model's outcome of every refresh in the current step (reuse events).
        self._outcomes: list[str] = []
        #: Purged sessions whose absence the store has already confirmed.
        self._gone: set[str] = set()
        #: Settled sessions whose records have been read since they settled.
        self._settled: set[str] = set()
        self.snap = self.portal.call(partial(self._snapshot, full=True))

    def close(self) -> None:
        self._stack.close()

    # -- plumbing ---------------------------------------------------------------------

    @staticmethod
    async def _call(fn: Callable[[], Awaitable[T]]) -> T | TokenError:
        try:
            return await fn()
        except TokenError as exc:
            return exc

    @staticmethod
    def _outcome(result: object) -> str:
        return outcome_of(result)

    # -- the front door: how a step reaches the authority ------------------------------
    # Directly here; the HTTP driver (._http) goes through an app's routes instead,
    # and sees each outcome as the app answers it.

    async def _front_issue(self, op: ops.Issue) -> TokenPair:
        return await self.auth.issue(
            op.subject,
            scopes=op.scopes,
            claims=ops.CLAIM_SETS[op.claims],
            csrf=op.csrf,
            metadata=ops.METADATA[op.metadata],
            jkt=None if op.key is None else ops.DPOP_KEYS[op.key],
        )

    async def _front_verify(self, token: str, jkt: str | None = None) -> Claims:
        """``jkt``: the DPoP key the request proved (a bound session's client proves its own)."""
        return await self.auth.verify(token, jkt)

    async def _front_refresh(self, token: str, jkt: str | None = None) -> TokenPair:
        return await self.auth.refresh(token, jkt)

    async def _front_revoke(self, token: str) -> None:
        await self.auth.revoke(token)

    def _seen(self, action: Action, outcome: str) -> str:
        """What the front shows of the model's ``outcome`` for ``action``: everything."""
        return outcome

    def _forged_outcome(self, action: Action) -> str:
        """A forged token refused (RFC 7009: a revoke of one is silently ignored)."""
        return m.OK if action == "revoke" else m.BAD_SIGNATURE

    def _model_revoke(self, kind: Literal["access", "refresh"], jti: str) -> bool:
        """The model's side of a logout with a token; True if the store may change."""
        return self.model.revoke_token(kind=kind, jti=jti)

    async def _snapshot(
        self, *, probe: bool = False, full: bool = False, listings: bool | None = None
    ) -> checks.Snapshot:
        """Read back what the model knows of that can still change.

        Session rows are read every time. Of a live session's chain, the last
        two records (the only ones a refresh may touch); records of a settled
        session (revoked or past its end) once after it settles. Access
        statuses: one per live session (the others differ only by denials,
        which only revoke steps add). A ``full`` snapshot reads all of these;
        ``listings`` (default: ``full``) adds ``store.sessions`` per subject;
        ``probe`` looks under every id this step handed out for stray records.
        """
        model = self.model
        sids = [sid for sid in model.sessions if sid not in self._gone] + [UNKNOWN_SID]
        jtis: list[str] = []
        settling: list[str] = []
        for session in model.session_list():
            if session.sid in self._gone:
                continue
            settled = session.revoked_at is not None or model.now >= session.expires_at
            if full or (settled and session.sid not in self._settled):
                jtis += session.chain
            elif not settled:
                jtis += session.chain[-2:]
            if settled:
                settling.append(session.sid)
        if probe:
            known = model.sessions.keys() | model.refresh.keys() | model.access.keys()
            for extra in self.ids.issued[self._step_start :]:
                if extra not in known:  # e.g. the successor id a replaying caller drew
                    sids.append(extra)
                    jtis.append(extra)
        # An access token past exp never reaches the store again: nothing to read.
        newest = {a.sid: a.jti for a in model.access.values()}
        access = [
            (a.jti, a.sid, a.subject)
            for a in model.access.values()
            if not model.token_expired(a.exp)
            and (full or (a.sid not in self._settled and newest[a.sid] == a.jti))
        ]
        listed = full if listings is None else listings
        subjects = sorted(model.subjects()) if listed else []
        self._settled.update(settling)
        return await checks.read(self.store, checks.ReadPlan(sids, jtis, access, subjects))

    # -- picking ------------------------------------------------------------------------

    def _pick_session(self, index: int) -> m.MSession | None:
        sessions = self.model.session_list()
        return sessions[index % len(sessions)] if sessions else None

    def _pick_refresh(self, op: ops.Refresh | ops.RefreshAny) -> str | None:
        if isinstance(op, ops.RefreshAny):
            order = self.refresh_order
            return order[op.index % len(order)] if order else None
        session = self._pick_session(op.session)
        return None if session is None else nth_back(session, op.back)

    def _pick_access(self, index: int) -> m.MAccess | None:
        order = self.access_order
        return self.model.access[order[index % len(order)]] if order else None

    def _key_of(self, sid: str) -> str | None:
        """The key a session's own client proves: the one it is bound to, or none."""
        session = self.model.sessions.get(sid)
        return None if session is None else session.jkt

    # -- checking tokens and pairs --------------------------------------------------------

    def _claims(self, token: str, typ: str) -> dict[str, Any]:
        header = self.auth.codec.peek_header(token)
        assert header == {"alg": "HS256", "kid": "k1", "typ": typ}, header
        return self.auth.codec.peek_claims(token)

    def _learn_pair(
        self,
        pair: TokenPair,
        sid: str,
        *,
        fresh: bool,
        rotating: bool = False,
        gens: range | None = None,
    ) -> dict[str, Any]:
        """Check a returned pair against the model and register its access token.

        Returns the refresh token's claims (the caller knows whether it is a
        new token or the same successor again). ``rotating``: the model has not
        applied the rotation yet, so the pair is of the session's next generation.
        ``gens``: a race's pairs were minted in whichever generation their turn met.
        """
        model = self.model
        session = model.sessions[sid]
        gen = session.generation + rotating
        iat, exp = model.access_times(sid)
        access = self._claims(pair.access_token, ACCESS_TYP)
        if gens is not None:
            assert access.get("gen") in gens, (access, gens)
            gen = access["gen"]
        expected: dict[str, object] = {
            **session.access_claims,
            "iss": model.config.issuer,
            "aud": model.config.audience,
            "sub": session.subject,
            "sid": sid,
            "iat": iat,
            "exp": exp,
            "fresh": fresh,
            "gen": gen,
        }
        jti = access.pop("jti")
        assert access == expected, (access, expected)
        assert isinstance(jti, str) and jti not in model.access and jti not in model.refresh
        # Token times are whole seconds and exp rounds up (see the model), so a token
        # capped at a session ending at a fraction of a second ends at the next second.
        end = session.expires_at
        assert exp <= end, "an access token outlives its session"
        refresh = self._claims(pair.refresh_token, REFRESH_TYP)
        # The session's CSRF value rides in the refresh token too (checked before a rotation).
        csrf = session.access_claims.get("csrf")
        assert refresh.get("csrf") == csrf, (refresh, csrf)
        # A bound session's refresh token is bound too: a copy is no use without the key.
        cnf = session.access_claims.get("cnf")
        assert refresh.get("cnf") == cnf, (refresh, cnf)
        names = {"iss", "aud", "sub", "sid", "jti", "iat", "exp"}
        names |= {name for name, value in (("csrf", csrf), ("cnf", cnf)) if value}
        assert set(refresh) == names, refresh
        assert (refresh["iss"], refresh["aud"]) == (model.config.issuer, model.config.audience)
        assert (refresh["sub"], refresh["sid"]) == (session.subject, sid), "invariant 8"
        # Invariant 5: every refresh token's exp <= session.expires_at.
        assert refresh["exp"] <= end, ("invariant 5", refresh, session.expires_at)
        assert pair.session_id == sid
        assert pair.access_expires_at == exp
        assert pair.refresh_expires_at == refresh["exp"]
        assert pair.expires_in == max(0, int(exp - model.now))
        assert pair.csrf_token == session.access_claims.get("csrf")
        # A session bound to a DPoP key hands out DPoP tokens (RFC 9449 §5), bound by cnf.jkt.
        bound = session.jkt is not None
        assert pair.token_type == ("DPoP" if bound else "bearer"), (pair.token_type, sid)
        model.add_access(jti=jti, sid=sid, fresh=fresh, token=pair.access_token, gen=gen)
        self.access_order.append(jti)
        return refresh

    def _check_minted(self, jti: str, claims: dict[str, Any]) -> None:
        """The claims of a freshly minted refresh token match its record."""
        record = self.model.refresh[jti]
        assert claims["jti"] == jti
        assert (claims["iat"], claims["exp"]) == (record.iat_claim, record.exp_claim), claims


def nth_back(session: m.MSession, back: int) -> str:
    """The token ``back`` steps behind the newest (clipped to the first)."""
    return session.chain[max(0, len(session.chain) - 1 - back)]


__all__ = (
    "FORGER_KEYS",
    "KEYS",
    "REVOKE",
    "UNKNOWN_SID",
    "Action",
    "DriverBase",
    "LifecycleStoreFactory",
    "TrackedIds",
    "nth_back",
    "outcome_of",
)
