"""Runs operations against a real TokenAuthority + Store and the reference model.

One :class:`Driver` owns one blocking portal (an event loop in a thread), one
fresh store from the caller's factory, a frozen clock and
sequential ids. :meth:`Driver.apply` performs an operation on both sides,
asserts the outcome the model predicts, then reads the store back and checks
every invariant of docs/design/lifecycle.md#invariants that applies (see :mod:`.checks`). It returns
the operation's trace entry (its outcome class, for invariant 12).
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, ExitStack
from functools import partial
from typing import Any, TypeVar

import anyio
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
from ._story import LifecycleViolation, describe, words

T = TypeVar("T")

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


class Driver:
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
        #: Where the current step's ids begin (probed for stray records).
        self._step_start = 0
        #: Outcome classes of every authority call in the current step.
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

    def _outcome(self, result: object) -> str:
        outcome = outcome_of(result)
        self._outcomes.append(outcome)
        return outcome

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

    # -- the one entry point ----------------------------------------------------------

    def apply(self, op: ops.Op) -> str:
        """Perform ``op`` on both sides, check everything, return its trace entry.

        One trip into the event loop per step: the model runs there too. A
        failed check raises :class:`LifecycleViolation`, which tells the
        operations so far in words.
        """
        line = describe(op, self.model, self.access_order, self.refresh_order)
        try:
            entry = self.portal.call(self._apply, op)
        except Exception as exc:
            self.story.append(f"{line} -> FAILS")
            raise LifecycleViolation(self.model.config, self.story, exc) from exc
        if entry != "skip":
            self.story.append(f"{line} -> {words(entry)}")
        return entry

    async def _apply(self, op: ops.Op) -> str:
        revoked_before = self.model.revoked_sids()
        events_before = len(self.events)
        self._step_start = len(self.ids.issued)
        self._outcomes = []
        entry, writes = await self._dispatch(op)
        self.trace.append(entry)
        reuse_events = sum(e.kind == "reuse_detected" for e in self.events[events_before:])
        assert reuse_events == self._outcomes.count(m.REUSE), (
            f"{op}: {reuse_events} reuse_detected events for outcomes {self._outcomes}"
        )
        if isinstance(op, ops.Advance):
            return entry
        refreshes = isinstance(op, ops.Refresh | ops.RefreshAny | ops.ConcurrentRefresh)
        periodic = len(self.trace) % 8 == 0
        full = periodic or isinstance(op, ops.Purge | ops.Issue | ops.Revoke | ops.RevokeSubject)
        listings = periodic or isinstance(op, ops.Purge | ops.Issue)
        previous = self.snap
        self.snap = await self._snapshot(probe=refreshes, full=full, listings=listings)
        problems = checks.against_model(self.model, self.snap, self._gone)
        problems += checks.moved_backwards(previous, self.snap)
        # Invariant 2: a revoked session stays revoked (that no token of it passes
        # again is what the model predicts for every later verify and refresh).
        problems += [
            f"session {sid} is no longer revoked"
            for sid in revoked_before
            if (stored := self.snap.sessions.get(sid)) is not None and stored.revoked_at is None
        ]
        if not writes:
            # Invariants 4 and 10: replay inside grace, verify, forged and
            # rejected tokens change nothing in the store.
            problems += [f"{c} changed" for c in checks.changed(previous, self.snap)]
        assert not problems, f"after {op}:\n  " + "\n  ".join(problems)
        self._gone.update(s.sid for s in self.model.session_list() if s.purged)
        return entry

    async def _dispatch(self, op: ops.Op) -> tuple[str, bool]:
        """(trace entry, whether the model says the store may change)."""
        if isinstance(op, ops.Advance):
            self.clock.advance(op.seconds)
            self.model.advance(op.seconds)
            return m.OK, False
        if isinstance(op, ops.Issue):
            return await self._issue(op), True
        if isinstance(op, ops.Verify):
            return await self._verify(op), False
        if isinstance(op, ops.WrongType):
            return await self._wrong_type(op), False
        if isinstance(op, ops.Refresh | ops.RefreshAny):
            jti = self._pick_refresh(op)
            return ("skip", False) if jti is None else await self._refresh(jti)
        if isinstance(op, ops.ConcurrentRefresh):
            return await self._concurrent(op)
        if isinstance(op, ops.Revoke):
            return await self._revoke(op)
        if isinstance(op, ops.RevokeSession):
            return await self._revoke_session(op)
        if isinstance(op, ops.RevokeSubject):
            return await self._revoke_subject(op)
        if isinstance(op, ops.Purge):
            return await self._purge(op), True
        if isinstance(op, ops.Forged):
            return await self._forged(op), False
        if isinstance(op, ops.Doctored):
            return await self._doctored(op), False
        return await self._list_sessions(op), False

    # -- picking ------------------------------------------------------------------------

    def _pick_session(self, index: int) -> m.MSession | None:
        sessions = self.model.session_list()
        return sessions[index % len(sessions)] if sessions else None

    def _pick_refresh(self, op: ops.Refresh | ops.RefreshAny) -> str | None:
        if isinstance(op, ops.RefreshAny):
            order = self.refresh_order
            return order[op.index % len(order)] if order else None
        session = self._pick_session(op.session)
        return None if session is None else _back(session, op.back)

    def _pick_access(self, index: int) -> m.MAccess | None:
        order = self.access_order
        return self.model.access[order[index % len(order)]] if order else None

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
        names = {"iss", "aud", "sub", "sid", "jti", "iat", "exp"} | ({"csrf"} if csrf else set())
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
        model.add_access(jti=jti, sid=sid, fresh=fresh, token=pair.access_token, gen=gen)
        self.access_order.append(jti)
        return refresh

    def _check_minted(self, jti: str, claims: dict[str, Any]) -> None:
        """The claims of a freshly minted refresh token match its record."""
        record = self.model.refresh[jti]
        assert claims["jti"] == jti
        assert (claims["iat"], claims["exp"]) == (record.iat_claim, record.exp_claim), claims

    # -- operations -----------------------------------------------------------------------

    async def _issue(self, op: ops.Issue) -> str:
        model = self.model
        custom, metadata = ops.CLAIM_SETS[op.claims], ops.METADATA[op.metadata]
        result = await self._call(
            partial(
                self.auth.issue,
                op.subject,
                scopes=op.scopes,
                claims=custom,
                csrf=op.csrf,
                metadata=metadata,
            )
        )
        assert isinstance(result, TokenPair), result
        refresh = self._claims(result.refresh_token, REFRESH_TYP)
        access_claims: dict[str, object] = dict(custom)
        if op.scopes:
            access_claims["scope"] = " ".join(dict.fromkeys(op.scopes))
        if op.csrf:
            assert isinstance(result.csrf_token, str) and result.csrf_token
            access_claims["csrf"] = result.csrf_token
        sid, jti = refresh["sid"], refresh["jti"]
        assert sid not in model.sessions and jti not in model.refresh, "ids must be fresh"
        model.add_session(
            sid=sid,
            subject=op.subject,
            first_jti=jti,
            first_token=result.refresh_token,
            access_claims=access_claims,
            metadata=dict(metadata),
        )
        self.refresh_order.append(jti)
        self._check_minted(jti, refresh)
        self._learn_pair(result, sid, fresh=True)
        return m.OK

    async def _verify(self, op: ops.Verify) -> str:
        token = self._pick_access(op.index)
        if token is None:
            return "skip"
        expected = self.model.verify(token.jti)
        result = await self._call(partial(self.auth.verify, token.token))
        actual = self._outcome(result)
        assert actual == expected, f"verify {token}: got {actual}, model expects {expected}"
        self.tally[f"verify {actual}"] += 1
        if isinstance(result, Claims):
            assert (result.jti, result.sid, result.sub) == (token.jti, token.sid, token.subject)
        return actual

    async def _wrong_type(self, op: ops.WrongType) -> str:
        if op.kind == "verify":
            order = self.refresh_order
            if not order:
                return "skip"
            token = self.model.refresh[order[op.index % len(order)]].token
            result: object = await self._call(partial(self.auth.verify, token))
        else:
            access = self._pick_access(op.index)
            if access is None:
                return "skip"
            result = await self._call(partial(self.auth.refresh, access.token))
        actual = self._outcome(result)
        assert actual == m.WRONG_TYPE, f"{op}: got {actual}"
        return actual

    async def _refresh(self, jti: str) -> tuple[str, bool]:
        model = self.model
        record = model.refresh[jti]
        decision = model.decide_refresh(
            jti, sid=record.sid, subject=record.subject, exp_claim=record.exp_claim
        )
        result = await self._call(partial(self.auth.refresh, record.token))
        actual = self._outcome(result)
        assert actual == decision.outcome, (
            f"refresh of {jti} (session {record.sid}): got {actual}, "
            f"model expects {decision.outcome} ({decision.kind})"
        )
        self.tally[f"refresh {decision.kind}"] += 1
        if isinstance(result, TokenPair) and decision.kind == "replay":
            # Invariant 4: the same successor, byte for byte (HS256 is deterministic).
            assert decision.successor is not None
            assert result.refresh_token == model.refresh[decision.successor].token, (
                "a grace replay must return the same successor"
            )
            self._learn_pair(result, record.sid, fresh=False)
        elif isinstance(result, TokenPair):
            claims = self._learn_pair(result, record.sid, fresh=False, rotating=True)
            assert claims["jti"] not in model.refresh, "a rotation mints a new refresh token"
            model.rotate(jti, claims["jti"], result.refresh_token)
            self._check_minted(claims["jti"], claims)
            self.refresh_order.append(claims["jti"])
        elif decision.kind == "reuse":
            model.reuse_detected(jti)
            # Invariant 3: the session's newest token is dead too, at once.
            try:
                probe, _ = await self._refresh(model.sessions[record.sid].current)
            except AssertionError as exc:
                raise AssertionError(f"after reuse detection (invariant 3): {exc}") from None
            assert probe != m.OK, "after reuse detection the newest token still refreshes"
            return f"{actual}>{probe}", True
        return actual, decision.writes

    async def _concurrent(self, op: ops.ConcurrentRefresh) -> tuple[str, bool]:
        """Refreshes (of one token, or of several of one session) at once, maybe
        racing a revoke_session: the outcomes must be those of *some* serial
        order (refresh is atomic, and atomic against revocation), with exactly
        one successor minted whoever wins (invariant 6)."""
        session = self._pick_session(op.session)
        if session is None or not op.backs:
            return "skip", False
        model, auth, sid = self.model, self.auth, session.sid
        jtis = [_back(session, back) for back in op.backs]
        found = model.stored(sid) is not None

        async def race() -> tuple[dict[int, TokenPair | TokenError], list[bool]]:
            results: dict[int, TokenPair | TokenError] = {}
            revoked: list[bool] = []

            async def one(i: int) -> None:
                try:
                    results[i] = await auth.refresh(model.refresh[jtis[i]].token)
                except TokenError as exc:
                    results[i] = exc

            async def revoke() -> None:
                revoked.append(await auth.revoke_session(sid))

            async with anyio.create_task_group() as group:
                for i in range(len(jtis)):
                    group.start_soon(one, i)
                    if op.revoke and i == 0:
                        group.start_soon(revoke)
            return results, revoked

        results, revoked = await race()
        assert revoked == ([found] if op.revoke else []), revoked
        ordered = [results[i] for i in range(len(jtis))]
        actual = [(jti, self._outcome(r)) for jti, r in zip(jtis, ordered, strict=True)]
        pairs = [r for r in ordered if isinstance(r, TokenPair)]
        known = {r.token for r in model.refresh.values()}
        minted = {p.refresh_token for p in pairs} - known
        assert len(minted) <= 1, f"{len(jtis)} concurrent refreshes minted {len(minted)} tokens"
        new_token = minted.pop() if minted else ""
        new_jti = self._claims(new_token, REFRESH_TYP)["jti"] if new_token else ""
        returned = [r.refresh_token if isinstance(r, TokenPair) else "" for r in ordered]
        observed = Counter((jti, outcome, returned[i]) for i, (jti, outcome) in enumerate(actual))
        items = [*jtis, REVOKE] if op.revoke else jtis
        for order in sorted(set(itertools.permutations(items))):
            trial = copy.deepcopy(model)
            if Counter(_serially(trial, sid, order, new_jti, new_token)) == observed:
                break
        else:
            raise AssertionError(f"{op}: outcomes {sorted(actual)} fit no serial order")
        chain, generation = len(session.chain), session.generation
        outcomes = _serially(model, sid, order, new_jti, new_token)
        rotated = len(session.chain) - chain
        assert rotated == (1 if new_token else 0)
        if rotated:
            self._check_minted(new_jti, self._claims(new_token, REFRESH_TYP))
            self.refresh_order.append(new_jti)
        for pair in pairs:
            self._learn_pair(pair, sid, fresh=False, gens=range(generation, session.generation + 1))
        # Winners handed a token that existed before the step replayed inside grace.
        self.tally["refresh replay"] += sum(bool(t) and t in known for _, _, t in outcomes)
        writes = bool(rotated) or op.revoke or any(o == m.REUSE for _, o, _ in outcomes)
        if op.revoke or len(set(jtis)) > 1:
            self.tally["concurrent race"] += 1
            return "race", writes  # which serial order happened may differ between runs
        decided = [o for _, o, _ in outcomes]
        self.tally[f"concurrent {decided[0]}"] += 1
        if decided[0] == m.OK:
            # Inside grace none of them revokes (invariant 6).
            assert decided == [m.OK] * len(jtis) and session.revoked_at is None, decided
        return "+".join(sorted(decided)), writes

    async def _revoke(self, op: ops.Revoke) -> tuple[str, bool]:
        model = self.model
        if op.kind == "access":
            picked = self._pick_access(op.index)
            if picked is None:
                return "skip", False
            jti, token = picked.jti, picked.token
        else:
            order = self.refresh_order
            if not order:
                return "skip", False
            jti = order[op.index % len(order)]
            token = model.refresh[jti].token
        changes = model.revoke_token(kind=op.kind, jti=jti)
        assert await self._call(partial(self.auth.revoke, token)) is None
        if op.twice:
            # Invariant 11: a second revoke changes nothing.
            first = await self._snapshot(full=True)
            assert await self._call(partial(self.auth.revoke, token)) is None
            await self._assert_unchanged(first, op)
        return m.OK, changes

    async def _revoke_session(self, op: ops.RevokeSession) -> tuple[str, bool]:
        session = self._pick_session(op.session) if op.session is not None else None
        sid = session.sid if session is not None else UNKNOWN_SID
        expected = self.model.revoke_session(sid)
        found = await self._call(partial(self.auth.revoke_session, sid))
        assert found is expected, f"revoke_session({sid}) returned {found}, expected {expected}"
        if op.twice:
            first = await self._snapshot(full=True)
            again = await self._call(partial(self.auth.revoke_session, sid))
            assert again is expected, "revoke_session is idempotent (invariant 11)"
            await self._assert_unchanged(first, op)
        return f"ok:{found}", expected

    async def _revoke_subject(self, op: ops.RevokeSubject) -> tuple[str, bool]:
        expected = self.model.revoke_subject(op.subject)
        count = await self._call(partial(self.auth.revoke_subject, op.subject))
        assert count == expected, f"revoke_subject({op.subject}) = {count}, expected {expected}"
        if op.twice:
            first = await self._snapshot(full=True)
            again = await self._call(partial(self.auth.revoke_subject, op.subject))
            assert again == 0, "revoke_subject again at the same instant revokes nothing"
            await self._assert_unchanged(first, op)
        return f"ok:{count}", True

    async def _assert_unchanged(self, first: checks.Snapshot, op: ops.Op) -> None:
        differ = checks.changed(first, await self._snapshot(full=True))
        assert not differ, f"{op} repeated changed {differ} (invariant 11)"

    async def _purge(self, op: ops.Purge) -> str:
        model = self.model
        before = self.snap
        live = [s for s in model.session_list() if not s.purged]
        expected = model.purge()
        removed = await self._call(partial(self.auth.purge, batch=op.batch))
        assert removed == expected, f"purge removed {removed} sessions, model expects {expected}"
        self.tally["purge removed" if removed else "purge nothing"] += 1
        # Invariant 9: what is still alive (or merely not yet purgeable) is untouched.
        after = await self._snapshot(full=True)
        for session in live:
            if session.purged:
                continue
            assert after.sessions[session.sid] == before.sessions[session.sid], session.sid
            for jti in session.chain:
                if jti in before.records:
                    assert after.records[jti] == before.records[jti], jti
        return f"ok:{removed}"

    async def _forged(self, op: ops.Forged) -> str:
        model = self.model
        if op.action == "refresh":
            order = self.refresh_order
            if not order:
                return "skip"
            genuine, typ = model.refresh[order[op.index % len(order)]].token, REFRESH_TYP
        else:
            picked = self._pick_access(op.index)
            if picked is None:
                return "skip"
            genuine, typ = picked.token, ACCESS_TYP
        forged = self.forger.encode(self.auth.codec.peek_claims(genuine), typ=typ)
        assert forged != genuine
        call = {"verify": self.auth.verify, "refresh": self.auth.refresh}.get(op.action)
        result: object = await self._call(partial(call or self.auth.revoke, forged))
        actual = self._outcome(result)
        expected = m.OK if op.action == "revoke" else m.BAD_SIGNATURE
        assert actual == expected, f"{op}: got {actual}"
        self.tally[f"forged {op.action}"] += 1
        return actual

    async def _doctored(self, op: ops.Doctored) -> str:
        model = self.model
        order = self.refresh_order
        if not order:
            return "skip"
        record = model.refresh[order[op.index % len(order)]]
        claims = dict(self.auth.codec.peek_claims(record.token))
        if op.claim == "sid":
            others = [s.sid for s in model.session_list() if s.sid != record.sid]
            claims["sid"] = others[0] if others else UNKNOWN_SID
        else:
            claims["sub"] = next(s for s in (*ops.SUBJECTS, "mallory") if s != record.subject)
        token = self.auth.codec.encode(claims, typ=REFRESH_TYP)
        decision = model.decide_refresh(
            record.jti, sid=claims["sid"], subject=claims["sub"], exp_claim=claims["exp"]
        )
        assert decision.kind in ("expired", "unknown"), decision
        actual = self._outcome(await self._call(partial(self.auth.refresh, token)))
        assert actual == decision.outcome, f"{op}: got {actual}, expected {decision.outcome}"
        self.tally[f"doctored {decision.kind}"] += 1
        return actual

    async def _list_sessions(self, op: ops.ListSessions) -> str:
        model = self.model
        live = await self._call(partial(self.auth.sessions, op.subject))
        every = await self._call(partial(self.auth.sessions, op.subject, include_revoked=True))
        assert isinstance(live, list) and isinstance(every, list)
        assert {s.sid for s in live} == set(model.live_sessions(op.subject)), live
        assert {s.sid for s in every} == set(model.stored_sessions(op.subject)), every
        for listed in (live, every):
            starts = [s.created_at for s in listed]
            assert starts == sorted(starts), "sessions() lists oldest first"
        return f"ok:{len(live)}/{len(every)}"


def _back(session: m.MSession, back: int) -> str:
    """The token ``back`` steps behind the newest (clipped to the first)."""
    return session.chain[max(0, len(session.chain) - 1 - back)]


def _serially(
    model: m.Model, sid: str, order: tuple[str, ...], new_jti: str, new_token: str
) -> list[tuple[str, str, str]]:
    """Refresh the tokens of ``order`` one after another (``REVOKE``: revoke the
    session), on ``model``: per refresh, (jti, outcome, refresh token returned)."""
    outcomes: list[tuple[str, str, str]] = []
    for jti in order:
        if jti == REVOKE:
            model.revoke_session(sid)
            continue
        record = model.refresh[jti]
        decision = model.decide_refresh(
            jti, sid=record.sid, subject=record.subject, exp_claim=record.exp_claim
        )
        returned = ""
        if decision.kind == "rotate":
            returned = new_token
            model.rotate(jti, new_jti or "<none minted>", new_token)
        elif decision.kind == "replay":
            assert decision.successor is not None
            returned = model.refresh[decision.successor].token
        elif decision.kind == "reuse":
            model.reuse_detected(jti)
        outcomes.append((jti, decision.outcome, returned))
    return outcomes


__all__ = ("KEYS", "UNKNOWN_SID", "Driver", "LifecycleStoreFactory", "outcome_of")
