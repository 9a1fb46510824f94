"""The lifecycle, against a reference model, on every store.

Invariants 1-12 of docs/design/lifecycle.md#invariants:

* ``test_lifecycle_machine``: a Hypothesis ``RuleBasedStateMachine`` per store
  backend (the ``backend`` fixture of tests/conftest.py: unavailable stores
  skip, or fail under ``TOKENLIFE_REQUIRE_SERVICES=1``).
* ``test_scenario``: hand-written sequences with their expected traces, which
  pin the reference model itself to docs/design/lifecycle.md.
* ``test_every_store_gives_the_same_trace``: invariant 12 across stores, on
  seeded generated sequences run against all available backends.

Each step runs through :class:`tests.property.driver.Driver`, which checks the
outcome against the model and every applicable invariant on the stored records.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests import backends
from tests.property import model as m
from tests.property import ops
from tests.property.driver import Driver
from tests.property.ops import (
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
    WrongType,
)
from tests.property.scenarios import SCENARIOS

#: The "long" profile (``--hypothesis-profile=long``) also walks longer sequences.
LONG = settings().max_examples > 1000
STEPS = 50 if LONG else 25
#: Logins per run, and at once: dead sessions stay in the run (cheap to check).
MAX_SESSIONS = 10
MAX_LIVE = 3

indices = st.integers(0, 63)
offsets = st.sampled_from([-0.25, 0.0, 0.0, 0.25])
#: When a rule acts: after a plain pause (none, inside grace, at or past its end,
#: past the access TTL), or at a boundary the model knows of (see
#: ``Model.edge``), give or take 0.25 s. Each rule favours the edges that matter to it.
Timing = float | tuple[str, float]
pauses = st.sampled_from([0.0] * 6 + [1.0, 5.0, 10.0, 10.25, 30.0, 61.0])


def timings(*edges: str) -> st.SearchStrategy[Timing]:
    """Mostly no pause; a third of the time, an edge (most edges end something)."""
    return st.one_of(pauses, pauses, st.tuples(st.sampled_from(edges), offsets))


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
    (sometimes preceded by a clock step, so it lands where things change)."""

    def __init__(self, backend: backends.Backend, tally: Counter[str]) -> None:
        super().__init__()
        self.backend = backend
        self.tally = tally
        self._driver: Driver | None = None

    @property
    def driver(self) -> Driver:
        assert self._driver is not None
        return self._driver

    def _do(self, op: ops.Op) -> str:
        return self.driver.apply(op)

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
    )
    def start(self, grace: float, leeway: float, floor: bool, subject: str) -> None:
        config = m.Config(grace=grace, leeway=leeway, floor_on_refresh=floor)
        self._driver = Driver(self.backend, config)
        self._do(Issue(subject))

    def teardown(self) -> None:
        if self._driver is not None:
            self.tally.update(self._driver.tally)
            self._driver.close()

    # -- logins and access tokens -------------------------------------------------------

    @precondition(
        lambda self: (
            len(self.driver.model.sessions) < MAX_SESSIONS
            and sum(map(self.driver.model.is_live, self.driver.model.sessions)) < MAX_LIVE
        )
    )
    @rule(
        subject=st.sampled_from(ops.SUBJECTS),
        scopes=st.sampled_from(ops.SCOPES),
        csrf=st.booleans(),
        claims=st.integers(0, len(ops.CLAIM_SETS) - 1),
        metadata=st.integers(0, len(ops.METADATA) - 1),
    )
    def issue(
        self, subject: str, scopes: tuple[str, ...], csrf: bool, claims: int, metadata: int
    ) -> None:
        self._do(Issue(subject, scopes, csrf, claims, metadata))

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

    # -- revocation -------------------------------------------------------------------------

    @rule(
        what=st.sampled_from(["access", "refresh", "session", "unknown session", "subject"]),
        i=indices,
        twice=st.booleans(),
    )
    def revoke(self, what: str, i: int, twice: bool) -> None:
        if what == "access":
            self._do(Revoke("access", -1 - i % 8, twice))
        elif what == "refresh":
            self._do(Revoke("refresh", i, twice))
        elif what == "session":
            self._do(RevokeSession(self._pick(i), twice))
        elif what == "unknown session":
            self._do(RevokeSession(None, twice))
        else:
            self._do(RevokeSubject(ops.SUBJECTS[i % len(ops.SUBJECTS)], twice))

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


#: What a CI-sized run reaches dozens of times; reaching none of one means the
#: rules or strategies no longer get there (and the run proved less than it seems).
MUST_REACH = (
    "refresh rotate",
    "refresh replay",
    "refresh reuse",
    "refresh revoked",
    "refresh expired",
    "verify ok",
    "verify RevokedTokenError:revoked",
    "verify ExpiredTokenError:expired",
    f"concurrent {m.OK}",
    "concurrent race",
    "purge removed",
    "forged refresh",
    "doctored unknown",
)


@pytest.mark.timeout(0 if LONG else 300)
def test_lifecycle_machine(backend: backends.Backend) -> None:
    tally: Counter[str] = Counter()
    # It accepts any factory at run time; its annotation differs between Hypothesis
    # releases (untyped, then ``type[RuleBasedStateMachine]``), so call it untyped.
    run_machine = cast(Any, run_state_machine_as_test)
    run_machine(
        lambda: LifecycleMachine(backend, tally), settings=settings(stateful_step_count=STEPS)
    )
    if settings().max_examples >= 200:
        missed = [what for what in MUST_REACH if not tally[what]]
        assert not missed, f"the machine never reached {missed}; it reached {dict(tally)}"


def _trace(
    backend: backends.Backend, config: m.Config, steps: list[tuple[ops.Op, str]]
) -> list[str]:
    """Apply ``steps`` to a fresh driver on ``backend``; the trace it produced."""
    driver = Driver(backend, config)
    try:
        for op, _ in steps:
            driver.apply(op)
    finally:
        driver.close()
    return driver.trace


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(backend: backends.Backend, name: str) -> None:
    config, steps = SCENARIOS[name]
    assert _trace(backend, config, steps) == [expected for _, expected in steps]


# -- invariant 12 across stores ----------------------------------------------------------------

TRACE_SEEDS = range(8)
TRACE_LENGTH = 60


def _random_config(rng: random.Random) -> m.Config:
    return m.Config(
        grace=rng.choice((10.0, 10.0, 0.0)),
        leeway=rng.choice((0.0, 0.0, 5.0)),
        floor_on_refresh=rng.random() < 0.8,
    )


def _available(request: pytest.FixtureRequest) -> list[backends.Backend]:
    found: list[backends.Backend] = []
    for name in backends.selected_names():
        backend = backends.load(name)
        if isinstance(backend, str):
            if backends.services_required():
                pytest.fail(f"required store backend unavailable: {backend}")
            continue
        request.config.add_cleanup(backend.cleanup)
        found.append(backend)
    return found


def test_every_store_gives_the_same_trace(request: pytest.FixtureRequest) -> None:
    stores = _available(request)
    if not stores:
        pytest.skip("no store backend available")
    sequences = [(name, *SCENARIOS[name]) for name in SCENARIOS]
    for seed in TRACE_SEEDS:
        rng = random.Random(seed)
        config = _random_config(rng)
        sequences.append(
            (f"seed {seed}", config, [(op, "") for op in ops.random_ops(rng, TRACE_LENGTH)])
        )
    for label, config, steps in sequences:
        traces: dict[str, list[str]] = {}
        for backend in stores:
            traces[backend.name] = _trace(backend, config, steps)
        first, *others = stores
        for other in others:
            assert traces[other.name] == traces[first.name], (
                f"{label}: {other.name} and {first.name} traces differ"
            )
