"""The lifecycle as a Hypothesis state machine: each rule an operation, each step checked.

Rules favour the moments where something changes: a clock step before a rule
often lands just before, at or after an edge the reference model knows of
(the end of the grace window, an ``exp``, a session's end, the next purge).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from . import _model as m
from . import _ops as ops
from ._draws import (
    MAX_KEEP_ALIVE,
    MAX_LIVE,
    MAX_SESSIONS,
    RunStats,
    Timing,
    indices,
    offsets,
    timings,
)
from ._driver import Driver, LifecycleStoreFactory
from ._ops import (
    Advance,
    ConcurrentRefresh,
    Doctored,
    Forged,
    Issue,
    ListSessions,
    Purge,
    Refresh,
    RefreshAny,
    Revoke,
    RevokeSession,
    RevokeSubject,
    Verify,
    WrongKey,
    WrongType,
)

#: Templates for the hostile rule; its index is drawn separately.
HOSTILE: tuple[ops.Op, ...] = (
    Forged("verify", 0),
    Forged("refresh", 0),
    Forged("revoke", 0),
    Doctored(0, "sid"),
    Doctored(0, "sub"),
    WrongType("verify", 0),
    WrongType("refresh", 0),
)


def _chains_of(length: int) -> Callable[[LifecycleMachine], bool]:
    def enough(machine: LifecycleMachine) -> bool:
        return any(len(s.chain) >= length for s in machine.driver.model.sessions.values())

    return enough


class LifecycleMachine(RuleBasedStateMachine):
    """One store, one authority, one reference model; each rule is an operation
    (sometimes preceded by a clock step, so it lands where things change).

    Not used directly: :func:`tokenlife.testing.lifecycle.lifecycle_state_machine`
    makes a subclass bound to a store factory and a configuration.
    """

    store_factory: ClassVar[LifecycleStoreFactory]
    #: A fixed configuration, or None to draw grace, leeway and the floor per example.
    config: ClassVar[m.Config | None] = None
    backend: ClassVar[str] = "asyncio"
    #: Whether logins may bind their session to a DPoP key (the front door states the key).
    dpop: ClassVar[bool] = True
    stats: ClassVar[RunStats]

    def __init__(self) -> None:
        super().__init__()
        self._driver: Driver | None = None
        type(self).stats.examples += 1
        self._number = type(self).stats.examples

    @property
    def driver(self) -> Driver:
        assert self._driver is not None
        return self._driver

    def _do(self, op: ops.Op) -> str:
        try:
            return self.driver.apply(op)
        except BaseException:
            stats = type(self).stats
            if stats.first_failure is None:
                stats.first_failure = self._number
            raise

    def _sid(self, index: int) -> str:
        sessions = self.driver.model.session_list()
        return sessions[index % len(sessions)].sid

    def _pick(self, k: int, chain: int = 1) -> int:
        """The index of a session with at least ``chain`` tokens: three times in
        four a live one when there is one (dead sessions only say "revoked")."""
        model = self.driver.model
        sessions = model.session_list()
        eligible = [i for i, s in enumerate(sessions) if len(s.chain) >= chain]
        live = [i for i in eligible if model.is_live(sessions[i].sid)]
        pool = live if live and k % 4 else eligible
        return pool[k // 4 % len(pool)]

    def _wait(self, timing: Timing, sid: str) -> None:
        """Advance by a pause, or to an edge of session ``sid`` if it lies ahead."""
        model = self.driver.model
        if isinstance(timing, tuple):
            kind, offset = timing
            edge = model.edge(kind, sid)
            seconds = 0.0 if edge is None else max(0.0, edge + offset - model.now)
        else:
            seconds = timing
        if seconds:
            self._do(Advance(seconds))

    @initialize(
        grace=st.sampled_from([10.0, 0.0]),
        leeway=st.sampled_from([0.0, 5.0]),
        floor=st.booleans(),
        subject=st.sampled_from(ops.SUBJECTS),
        session_ttl=st.sampled_from([1800.0, 900.0]),
        key=st.sampled_from([None, 0]),
    )
    def start(
        self,
        grace: float,
        leeway: float,
        floor: bool,
        subject: str,
        session_ttl: float,
        key: int | None,
    ) -> None:
        """A fresh store and authority; without a fixed policy, draw the knobs that
        move the edges (a shorter session reaches its cap within a few rotations)."""
        fixed = type(self).config
        config = fixed or m.Config(
            grace=grace, leeway=leeway, floor_on_refresh=floor, session_ttl=session_ttl
        )
        self._driver = self._new_driver(config)
        self._do(Issue(subject, key=key if type(self).dpop else None))

    def _new_driver(self, config: m.Config) -> Driver:
        return Driver(type(self).store_factory, config, backend=type(self).backend)

    def teardown(self) -> None:
        if self._driver is not None:
            type(self).stats.tally.update(self._driver.tally)
            self._driver.close()

    # -- logins and access tokens -------------------------------------------------------

    def _may_log_in(self) -> bool:
        model = self.driver.model
        return (
            len(model.sessions) < MAX_SESSIONS
            and sum(map(model.is_live, model.sessions)) < MAX_LIVE
        )

    @precondition(lambda self: self._may_log_in())
    @rule(
        subject=st.sampled_from(ops.SUBJECTS),
        scopes=st.sampled_from(ops.SCOPES),
        csrf=st.booleans(),
        claims=st.integers(0, len(ops.CLAIM_SETS) - 1),
        metadata=st.integers(0, len(ops.METADATA) - 1),
        key=st.sampled_from([None, None, 0, 1]),
    )
    def issue(
        self,
        subject: str,
        scopes: tuple[str, ...],
        csrf: bool,
        claims: int,
        metadata: int,
        key: int | None,
    ) -> None:
        """A login; half the time its client proves a DPoP key and the session is bound."""
        key = key if type(self).dpop else None
        self._do(Issue(subject, scopes, csrf, claims, metadata, key))

    @rule(recent=st.integers(0, 7), timing=timings("floor", "floor", "access exp", "session end"))
    def verify(self, recent: int, timing: Timing) -> None:
        """Strict verify, mostly of the newest access tokens (older ones are mostly dead)."""
        access = self.driver.access_order
        self._wait(timing, self.driver.model.access[access[-1 - recent % len(access)]].sid)
        self._do(Verify(-1 - recent))

    @precondition(lambda self: bool(self._older_access()))
    @rule(k=indices, timing=timings("floor", "floor", "access exp"))
    def verify_older(self, k: int, timing: Timing) -> None:
        """Verify an access token of an older generation than its session's."""
        older = self._older_access()
        index = older[k % len(older)]
        self._wait(timing, self.driver.model.access[self.driver.access_order[index]].sid)
        self._do(Verify(index))

    def _live_access(self) -> list[int]:
        model = self.driver.model
        return [
            i
            for i, jti in enumerate(self.driver.access_order)
            if not model.token_expired(model.access[jti].exp)
        ]

    def _older_access(self) -> list[int]:
        model = self.driver.model
        return [
            i
            for i, jti in enumerate(self.driver.access_order)
            if (token := model.access[jti]).gen < model.sessions[token.sid].generation
            and not model.token_expired(token.exp)
        ]

    # -- refresh, replay, races -----------------------------------------------------------

    @rule(
        k=indices,
        timing=timings("grace", "grace", "refresh exp", "record end", "session end"),
    )
    def refresh_newest(self, k: int, timing: Timing) -> None:
        index = self._pick(k)
        self._wait(timing, self._sid(index))
        self._do(Refresh(index, 0))

    @precondition(_chains_of(2))
    @rule(k=indices, timing=timings("grace", "grace", "grace", "refresh exp", "session end"))
    def replay_parent(self, k: int, timing: Timing) -> None:
        index = self._pick(k, chain=2)
        self._wait(timing, self._sid(index))
        self._do(Refresh(index, 1))

    @precondition(_chains_of(3))
    @rule(k=indices, back=st.integers(2, 6), timing=timings("grace", "refresh exp"))
    def replay_ancestor(self, k: int, back: int, timing: Timing) -> None:
        index = self._pick(k, chain=3)
        self._wait(timing, self._sid(index))
        self._do(Refresh(index, back))

    @rule(i=indices)
    def refresh_any(self, i: int) -> None:
        self._do(RefreshAny(i))

    @rule(
        k=indices,
        back=st.sampled_from([0, 0, 1]),
        n=st.integers(2, 5),
        timing=timings("grace", "grace", "refresh exp", "session end"),
        revoke=st.sampled_from([False, False, False, True]),
    )
    def concurrent_refresh(self, k: int, back: int, n: int, timing: Timing, revoke: bool) -> None:
        """N refreshes of one token at once; sometimes a revoke_session races them."""
        index = self._pick(k)
        self._wait(timing, self._sid(index))
        self._do(ConcurrentRefresh(index, (back,) * n, revoke))

    @precondition(_chains_of(2))
    @rule(
        k=indices,
        backs=st.lists(st.integers(0, 2), min_size=2, max_size=4).map(tuple),
        revoke=st.booleans(),
        timing=timings("grace", "refresh exp"),
    )
    def mixed_race(self, k: int, backs: tuple[int, ...], revoke: bool, timing: Timing) -> None:
        """The newest token and older ones of a session at once (two tabs, one with a
        stale token), maybe with a logout: some serial order must explain it all."""
        index = self._pick(k, chain=2)
        self._wait(timing, self._sid(index))
        self._do(ConcurrentRefresh(index, backs, revoke))

    @precondition(lambda self: any(map(self.driver.model.is_live, self.driver.model.sessions)))
    @rule(k=indices, share=st.sampled_from([0.9, 0.999]))
    def stay_signed_in(self, k: int, share: float) -> None:
        """A client that refreshes every ``share`` of the refresh lifetime until its
        session ends: the walk crosses the moment from which the session's end caps
        every successor (none may outlive it), then refreshes past that end."""
        model = self.driver.model
        index = self._pick(k)
        sid = self._sid(index)
        for _ in range(MAX_KEEP_ALIVE):
            if not model.is_live(sid):
                break
            self._do(Advance(model.config.refresh_ttl * share))
            self._do(Refresh(index, 0))

    @precondition(_chains_of(2))
    @rule(k=indices, late=st.sampled_from([0.25, 1.0, 30.0]))
    def thief_replays(self, k: int, late: float) -> None:
        """A stolen token replayed after its owner refreshed, past the grace window:
        reuse is detected and the whole session dies, the owner's newest token too."""
        index = self._pick(k, chain=2)
        sid = self._sid(index)
        self._wait(("grace", late), sid)
        self._do(Refresh(index, 1))

    # -- revocation -------------------------------------------------------------------------

    @precondition(lambda self: bool(self._live_access()))
    @rule(i=indices, twice=st.booleans())
    def logout(self, i: int, twice: bool) -> None:
        """Log out with an access token still alive (what an app's logout does):
        the session ends and the token's ``jti`` is denied until its ``exp``."""
        live = self._live_access()
        self._do(Revoke("access", live[i % len(live)], twice))

    @rule(
        what=st.sampled_from(["access", "refresh", "session", "unknown session", "subject"]),
        i=indices,
        twice=st.booleans(),
    )
    def revoke(self, what: str, i: int, twice: bool) -> None:
        if what == "access":
            # Mostly a token still alive (the logout an app performs), else a recent one.
            live = self._live_access()
            index = live[i % len(live)] if live and i % 4 else -1 - i % 8
            self._do(Revoke("access", index, twice))
        elif what == "refresh":
            self._do(Revoke("refresh", i, twice))
        elif what == "session":
            self._do(RevokeSession(self._pick(i), twice))
        elif what == "unknown session":
            self._do(RevokeSession(None, twice))
        else:
            # Mostly the subject of a session there is (a live one when there is one).
            sessions = self.driver.model.session_list()
            subject = sessions[self._pick(i)].subject if i % 4 else ops.SUBJECTS[i % 3]
            self._do(RevokeSubject(subject, twice))

    @rule(
        k=indices,
        before=st.booleans(),
        after=st.booleans(),
        pause=st.sampled_from([0.0, 0.25, 0.5]),
    )
    def log_out_everywhere(self, k: int, before: bool, after: bool, pause: float) -> None:
        """ "Log out everywhere" as it happens: just after a login of the subject at
        the same instant (a new device), and or followed at once by a new login (a
        password reset), within one second: the first session must go, the second stay."""
        if pause:
            self._do(Advance(pause))
        sessions = self.driver.model.session_list()
        subject = ops.SUBJECTS[k % 3] if before else sessions[self._pick(k)].subject
        if before and self._may_log_in():
            self._do(Issue(subject))
        self._do(RevokeSubject(subject))
        if after and self._may_log_in():
            self._do(Issue(subject))

    # -- time and housekeeping ----------------------------------------------------------------

    @rule(seconds=st.integers(0, 12), fraction=st.sampled_from(ops.FRACTIONS))
    def advance_within_grace(self, seconds: int, fraction: float) -> None:
        self._do(Advance(seconds + fraction))

    @rule(
        seconds=st.sampled_from([(11, 70)] * 3 + [(59, 610)] * 2 + [(600, 1900)]).flatmap(
            lambda r: st.integers(*r)
        ),
        fraction=st.sampled_from(ops.FRACTIONS),
    )
    def advance_far(self, seconds: int, fraction: float) -> None:
        self._do(Advance(seconds + fraction))

    @rule(
        batch=st.sampled_from([1, 2, 1000]),
        timing=st.one_of(st.just(0.0), st.tuples(st.just("purge"), offsets)),
    )
    def purge(self, batch: int, timing: Timing) -> None:
        """Purge now, or just around the moment the next session becomes purgeable."""
        self._wait(timing, self._sid(0))
        self._do(Purge(batch))

    @rule(subject=st.sampled_from(ops.SUBJECTS))
    def list_sessions(self, subject: str) -> None:
        self._do(ListSessions(subject))

    # -- hostile tokens -----------------------------------------------------------------------

    @precondition(lambda self: type(self).dpop)
    @rule(
        kind=st.sampled_from(["verify", "refresh"]),
        i=indices,
        key=st.sampled_from([None, None, 0, 1]),
    )
    def wrong_key(self, kind: Literal["verify", "refresh"], i: int, key: int | None) -> None:
        """A copied DPoP-bound token without its key (or with another), an unbound
        token with a proof: refused before the store, nothing changed."""
        self._do(WrongKey(kind, i, key))

    @rule(what=st.sampled_from(HOSTILE), i=indices)
    def hostile(self, what: ops.Op, i: int) -> None:
        """Forged signatures, doctored sid/sub, wrong token types: refused, store untouched."""
        if isinstance(what, Forged):
            self._do(Forged(what.action, i))
        elif isinstance(what, Doctored):
            self._do(Doctored(i, what.claim))
        else:
            assert isinstance(what, WrongType)
            self._do(WrongType(what.kind, i))


__all__ = ("MAX_KEEP_ALIVE", "MAX_LIVE", "MAX_SESSIONS", "LifecycleMachine", "RunStats", "timings")
