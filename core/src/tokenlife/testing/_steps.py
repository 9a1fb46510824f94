"""The other steps: logins, verification, revocation, purge, listings, hostile tokens.

Each performs its operation on the authority and on the model, checks what
the authority answered, and says whether the store may have changed.
"""

from __future__ import annotations

from functools import partial

from tokenlife import ACCESS_TYP, REFRESH_TYP, Claims, TokenPair

from . import _checks as checks
from . import _model as m
from . import _ops as ops
from ._base import UNKNOWN_SID, DriverBase


class TokenSteps(DriverBase):
    """Every operation but refresh (see :class:`._refreshes.RefreshSteps`)."""

    async def _issue(self, op: ops.Issue) -> str:
        model = self.model
        custom, metadata = ops.CLAIM_SETS[op.claims], ops.METADATA[op.metadata]
        result = await self._call(partial(self._front_issue, op))
        assert isinstance(result, TokenPair), result
        refresh = self._claims(result.refresh_token, REFRESH_TYP)
        access_claims: dict[str, object] = dict(custom)
        if op.scopes:
            access_claims["scope"] = " ".join(dict.fromkeys(op.scopes))
        if op.csrf:
            assert isinstance(result.csrf_token, str) and result.csrf_token
            access_claims["csrf"] = result.csrf_token
        if op.key is not None:
            access_claims["cnf"] = {"jkt": ops.DPOP_KEYS[op.key]}
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
        decided = self.model.verify(token.jti)
        expected = self._seen("verify", decided)
        result = await self._call(partial(self._front_verify, token.token, self._key_of(token.sid)))
        actual = self._outcome(result)
        assert actual == expected, f"verify {token}: got {actual}, model expects {expected}"
        self.tally[f"verify {decided}"] += 1
        if isinstance(result, Claims):
            assert (result.jti, result.sid, result.sub) == (token.jti, token.sid, token.subject)
        return actual

    async def _wrong_type(self, op: ops.WrongType) -> str:
        if op.kind == "verify":
            order = self.refresh_order
            if not order:
                return "skip"
            record = self.model.refresh[order[op.index % len(order)]]
            key = self._key_of(record.sid)
            result: object = await self._call(partial(self._front_verify, record.token, key))
        else:
            access = self._pick_access(op.index)
            if access is None:
                return "skip"
            key = self._key_of(access.sid)
            result = await self._call(partial(self._front_refresh, access.token, key))
        actual = self._outcome(result)
        expected = self._seen("verify" if op.kind == "verify" else "refresh", m.WRONG_TYPE)
        assert actual == expected, f"{op}: got {actual}, expected {expected}"
        return actual

    async def _wrong_key(self, op: ops.WrongKey) -> str:
        """A token with the wrong DPoP key proven: the binding check comes before the
        store, so it is refused whatever the session's state, and nothing changes."""
        model = self.model
        if op.kind == "verify":
            access = [model.access[jti] for jti in self.access_order]
            candidates = [(a.token, a.sid) for a in access if not model.token_expired(a.exp)]
        else:  # an unbound session refreshed with a proof simply stays unbound
            records = [model.refresh[jti] for jti in self.refresh_order]
            candidates = [
                (r.token, r.sid)
                for r in records
                if model.sessions[r.sid].jkt is not None and not model.token_expired(r.exp_claim)
            ]
        if op.index % 4 < 2:  # half the time a bound token: the copy a thief would hold
            candidates = [c for c in candidates if self._key_of(c[1]) is not None] or candidates
        if not candidates:
            return "skip"
        token, sid = candidates[op.index % len(candidates)]
        own = self._key_of(sid)
        presented = None if op.key is None else ops.DPOP_KEYS[op.key]
        if own is None:
            presented, code = presented or ops.DPOP_KEYS[0], "dpop_not_bound"
        elif presented is None:
            code = "dpop_required"
        else:
            presented = next(k for k in ops.DPOP_KEYS if k != own)
            code = "dpop_key_mismatch"
        front = self._front_verify if op.kind == "verify" else self._front_refresh
        actual = self._outcome(await self._call(partial(front, token, presented)))
        expected = f"DPoPBindingError:{code}"
        assert actual == expected, f"{op}: got {actual}, expected {expected}"
        if op.kind == "refresh":
            events = [e for e in self.events[self._events_start :] if e.kind != "reuse_detected"]
            assert [(e.kind, e.reason) for e in events] == [("dpop_binding_refused", code)], (
                f"{op}: a refused binding is one security event, got {events}"
            )
        self.tally[f"wrong key {op.kind} {code}"] += 1
        return actual

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
        changes = self._model_revoke(op.kind, jti)
        done = await self._call(partial(self._front_revoke, token))
        assert done is None, f"{op}: got {self._outcome(done)}"
        if op.twice:
            # Invariant 11: a second revoke changes nothing.
            first = await self._snapshot(full=True)
            again = await self._call(partial(self._front_revoke, token))
            assert again is None, f"{op} again: got {self._outcome(again)}"
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
            record = model.refresh[order[op.index % len(order)]]
            genuine, typ, sid = record.token, REFRESH_TYP, record.sid
        else:
            picked = self._pick_access(op.index)
            if picked is None:
                return "skip"
            genuine, typ, sid = picked.token, ACCESS_TYP, picked.sid
        forged = self.forger.encode(self.auth.codec.peek_claims(genuine), typ=typ)
        assert forged != genuine
        key = self._key_of(sid)  # the owner's key proven too: the signature alone must fail
        if op.action == "verify":
            result: object = await self._call(partial(self._front_verify, forged, key))
        elif op.action == "refresh":
            result = await self._call(partial(self._front_refresh, forged, key))
        else:
            result = await self._call(partial(self._front_revoke, forged))
        actual = self._outcome(result)
        expected = self._forged_outcome(op.action)
        assert actual == expected, f"{op}: got {actual}, expected {expected}"
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
        key = self._key_of(record.sid)
        actual = self._outcome(await self._call(partial(self._front_refresh, token, key)))
        expected = self._seen("refresh", decision.outcome)
        assert actual == expected, f"{op}: got {actual}, expected {expected}"
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


__all__ = ("TokenSteps",)
