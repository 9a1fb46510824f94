"""The refresh steps: one refresh checked against the model, and races of several.

A race's outcomes must be those of *some* serial order of its calls (refresh
is atomic, and atomic against revocation): :func:`serially` replays an order
on a copy of the model, and the step tries every order until one fits.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from functools import partial

import anyio

from tokenlife import REFRESH_TYP, TokenError, TokenPair

from . import _model as m
from . import _ops as ops
from ._base import REVOKE, DriverBase, nth_back


class RefreshSteps(DriverBase):
    """:meth:`_refresh` (one token) and :meth:`_concurrent` (several at once)."""

    async def _refresh(self, jti: str) -> tuple[str, bool]:
        model = self.model
        record = model.refresh[jti]
        decision = model.decide_refresh(
            jti, sid=record.sid, subject=record.subject, exp_claim=record.exp_claim
        )
        key = self._key_of(record.sid)
        result = await self._call(partial(self._front_refresh, record.token, key))
        actual = self._outcome(result)
        expected = self._seen("refresh", decision.outcome)
        assert actual == expected, (
            f"refresh of {jti} (session {record.sid}): got {actual}, "
            f"model expects {expected} ({decision.kind})"
        )
        self._outcomes.append(decision.outcome)
        self.tally[f"refresh {decision.kind}"] += 1
        if decision.kind == "rotate" and self._key_of(record.sid) is not None:
            self.tally["refresh rotate (DPoP-bound)"] += 1
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
        jtis = [nth_back(session, back) for back in op.backs]
        found = model.stored(sid) is not None
        key = self._key_of(sid)

        async def race() -> tuple[dict[int, TokenPair | TokenError], list[bool]]:
            results: dict[int, TokenPair | TokenError] = {}
            revoked: list[bool] = []

            async def one(i: int) -> None:
                try:
                    results[i] = await self._front_refresh(model.refresh[jtis[i]].token, key)
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
        # Reuse detections show in the security events, even where the front hides them.
        reused = sum(e.kind == "reuse_detected" for e in self.events[self._events_start :])
        for order in sorted(set(itertools.permutations(items))):
            trial = copy.deepcopy(model)
            serial = serially(trial, sid, order, new_jti, new_token)
            if (
                Counter((j, self._seen("refresh", o), t) for j, o, t in serial) == observed
                and sum(o == m.REUSE for _, o, _ in serial) == reused
            ):
                break
        else:
            raise AssertionError(f"{op}: outcomes {sorted(actual)} fit no serial order")
        chain, generation = len(session.chain), session.generation
        outcomes = serially(model, sid, order, new_jti, new_token)
        self._outcomes += [o for _, o, _ in outcomes]
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


def serially(
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


__all__ = ("RefreshSteps", "serially")
