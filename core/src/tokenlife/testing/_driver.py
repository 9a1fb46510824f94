"""Runs operations against a real TokenAuthority + Store and the reference model.

:meth:`Driver.apply` performs an operation on both sides, asserts the outcome
the model predicts, then reads the store back and checks every invariant of
docs/design/lifecycle.md#invariants that applies (see :mod:`._checks`). It
returns the operation's trace entry (its outcome class, for invariant 12).
The steps themselves live in :mod:`._steps` and :mod:`._refreshes`, what they
stand on in :mod:`._base`.
"""

from __future__ import annotations

from . import _checks as checks
from . import _model as m
from . import _ops as ops
from ._base import KEYS, UNKNOWN_SID, LifecycleStoreFactory, outcome_of
from ._refreshes import RefreshSteps
from ._steps import TokenSteps
from ._story import LifecycleViolation, describe, words


class Driver(RefreshSteps, TokenSteps):
    """A real authority over a fresh store, shadowed by :class:`._model.Model`."""

    # -- the one entry point ----------------------------------------------------------

    def apply(self, op: ops.Op) -> str:
        """Perform ``op`` on both sides, check everything, return its trace entry.

        One trip into the event loop per step: the model runs there too. A
        failed check raises :class:`LifecycleViolation`, which tells the
        operations so far in words.
        """
        line = self._describe(op)
        try:
            entry = self.portal.call(self._apply, op)
        except Exception as exc:
            self.story.append(f"{line} -> FAILS")
            raise LifecycleViolation(self.model.config, self.story, exc) from exc
        if entry != "skip":
            self.story.append(f"{line} -> {words(entry)}")
        return entry

    def _describe(self, op: ops.Op) -> str:
        return describe(op, self.model, self.access_order, self.refresh_order)

    async def _apply(self, op: ops.Op) -> str:
        revoked_before = self.model.revoked_sids()
        events_before = self._events_start = len(self.events)
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
        if isinstance(op, ops.WrongKey):
            return await self._wrong_key(op), False
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


__all__ = ("KEYS", "UNKNOWN_SID", "Driver", "LifecycleStoreFactory", "outcome_of")
