"""``sessions``, ``revoke`` and ``purge``: a store's sessions, seen and changed by an operator.

Changes go through :class:`tokenlife.TokenAuthority`, so an operator's
revocation follows exactly the rules (and emits the same security events) as
the application's own. The authority insists on a signing key, which these
operations never use: each run gets a throwaway HS256 key that signs nothing.
The clock is read once per run, so every batch of a purge, its dry run and
its report use the same cutoffs.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tokenlife import KeySet, Policy, SessionRecord, Store, StoreError, TokenAuthority

from . import _clock, _purgecount
from ._errors import CliError
from ._output import Progress, Result, escape, plural, table
from ._stores import StoreURL, open_store

T = TypeVar("T")


def _authority(store: Store, policy: Policy, now: float) -> TokenAuthority:
    keys = KeySet.generate("HS256")  # required by TokenAuthority, never used to sign here
    return TokenAuthority(store, keys=keys, policy=policy, clock=lambda: now)


async def with_store(spec: StoreURL, work: Callable[[Store], Awaitable[T]]) -> T:
    """Run ``work`` on the opened store; a store failure becomes one clear line."""
    try:
        async with open_store(spec) as store:
            return await work(store)
    except StoreError as exc:
        raise CliError(f"store {spec.display}: {exc.message}") from None


def _state(session: SessionRecord, now: float) -> str:
    if session.revoked_at is not None:
        return "revoked"
    return "expired" if session.expires_at <= now else "active"


def _session_json(session: SessionRecord, now: float) -> dict[str, Any]:
    revoked = session.revoked_at
    scope = session.access_claims.get("scope")
    return {
        "sid": session.sid,
        "subject": session.subject,
        "state": _state(session, now),
        "created_at": _clock.as_json(session.created_at, now),
        "refreshed_at": _clock.as_json(session.refreshed_at, now),
        "expires_at": _clock.as_json(session.expires_at, now),
        "revoked_at": None if revoked is None else _clock.as_json(revoked, now),
        "revoked_reason": session.revoked_reason,
        "current_refresh_jti": session.current_jti,
        "scope": scope if isinstance(scope, str) else None,
        "metadata": dict(session.metadata),
    }


def _status(session: SessionRecord, now: float) -> str:
    state = _state(session, now)
    if session.revoked_at is not None:
        reason = f": {session.revoked_reason}" if session.revoked_reason else ""
        return f"revoked {_clock.relative(session.revoked_at, now)}{reason}"
    return state


# -- sessions ---------------------------------------------------------------------------


async def sessions(spec: StoreURL, subject: str, *, active_only: bool) -> Result:
    now = _clock.now()

    async def work(store: Store) -> list[SessionRecord]:
        return await _authority(store, Policy(), now).sessions(subject, include_revoked=True)

    found = await with_store(spec, work)
    if active_only:
        found = [s for s in found if _state(s, now) == "active"]
    data = {
        "store": spec.display,
        "subject": subject,
        "now": _clock.as_json(now, now),
        "count": len(found),
        "sessions": [_session_json(s, now) for s in found],
    }
    if not found:
        which = "active sessions" if active_only else "sessions"
        return Result(data, f"No {which} for {subject!r} in {spec.display}.")
    rows = [
        [
            s.sid,
            _clock.when(s.created_at, now),
            _clock.when(s.refreshed_at, now) if s.refreshed_at != s.created_at else "never",
            _clock.when(s.expires_at, now),
            _status(s, now),
        ]
        for s in found
    ]
    headers = ["SID", "CREATED", "LAST REFRESH", "EXPIRES", "STATUS"]
    if any(s.metadata for s in found):
        headers.append("DEVICE")
        for row, s in zip(rows, found, strict=True):
            row.append(", ".join(f"{k}={v}" for k, v in sorted(s.metadata.items())))
    title = f"{plural(len(found), 'session')} of {subject!r} in {spec.display}"
    return Result(data, f"{title}\n\n{table(headers, rows)}")


# -- revoke -----------------------------------------------------------------------------


async def revoke_session(spec: StoreURL, sid: str, reason: str | None) -> Result:
    now = _clock.now()

    async def work(store: Store) -> tuple[SessionRecord | None, SessionRecord | None]:
        before = await store.session(sid)
        if before is None or before.revoked_at is not None:
            return before, before
        auth = _authority(store, Policy(), now)
        if reason is None:
            await auth.revoke_session(sid)
        else:
            await auth.revoke_session(sid, reason=reason)
        return before, await store.session(sid)

    before, after = await with_store(spec, work)
    if before is None or after is None:
        raise CliError(f"no session {sid!r} in {spec.display}")
    changed = before.revoked_at is None
    revoked_at = after.revoked_at if after.revoked_at is not None else now
    data = {
        "store": spec.display,
        "session": sid,
        "subject": after.subject,
        "changed": changed,
        "revoked_at": _clock.as_json(revoked_at, now),
        "revoked_reason": after.revoked_reason,
    }
    if changed:
        text = (
            f"Revoked session {sid!r} of {after.subject!r} ({escape(after.revoked_reason or '')})."
        )
    else:
        text = (
            f"Session {sid!r} of {after.subject!r} was already revoked "
            f"{_clock.when(revoked_at, now)} ({escape(after.revoked_reason or '')}); "
            "nothing changed."
        )
    return Result(data, text)


async def revoke_subject(spec: StoreURL, subject: str, reason: str | None) -> Result:
    now = _clock.now()

    async def work(store: Store) -> int:
        auth = _authority(store, Policy(), now)
        if reason is None:
            return await auth.revoke_subject(subject)
        return await auth.revoke_subject(subject, reason=reason)

    count = await with_store(spec, work)
    data = {
        "store": spec.display,
        "subject": subject,
        "sessions_revoked": count,
        "revoked_before": _clock.as_json(now, now),
    }
    text = (
        f"Revoked {plural(count, 'open session')} of {subject!r}; every token issued to "
        f"{subject!r} before {_clock.iso(now)} is now refused."
    )
    return Result(data, text)


# -- purge ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeOptions:
    dry_run: bool
    batch: int
    session_ttl: float
    leeway: float


def _policy(options: PurgeOptions) -> Policy:
    ttl = options.session_ttl
    defaults = Policy()
    return Policy(
        session_ttl=ttl,
        access_ttl=min(defaults.access_ttl, ttl),
        refresh_ttl=min(defaults.refresh_ttl, ttl),
        leeway=options.leeway,
    )


async def purge(spec: StoreURL, options: PurgeOptions) -> Result:
    now = _clock.now()
    policy = _policy(options)
    request = _purgecount.purge_request(policy, now, options.batch)

    async def work(store: Store) -> tuple[_purgecount.PurgeCount | None, int, int]:
        try:
            counted = await _purgecount.count(spec, store, request)
        except _purgecount.CountUnavailable:
            if options.dry_run:
                raise
            counted = None  # purge anyway; only the total is unknown
        if options.dry_run:
            assert counted is not None
            return counted, counted.sessions, 0
        total = counted.sessions if counted is not None else None
        progress = Progress(sys.stderr, label="purging", unit="sessions", total=total)
        auth = _authority(store, policy, now)
        removed = batches = 0
        try:
            while True:
                step = await auth.purge(batch=options.batch, max_batches=1)
                removed, batches = removed + step, batches + 1
                progress.update(removed)
                if step < options.batch:
                    break
        finally:
            progress.close()
        return counted, removed, batches

    counted, sessions_removed, batches = await with_store(spec, work)
    data = {
        "store": spec.display,
        "dry_run": options.dry_run,
        "cutoffs": {
            "sessions_before": _clock.as_json(request.sessions_before, now),
            "denials_before": _clock.as_json(request.denials_before, now),
            "watermarks_before": _clock.as_json(request.watermarks_before, now),
        },
        "sessions": sessions_removed,
        "refresh_tokens": None if counted is None else counted.refresh_tokens,
        "denials": None if counted is None else counted.denials,
        "watermarks": None if counted is None else counted.watermarks,
        "batches": batches,
    }
    return Result(data, _purge_text(data, counted, sessions_removed, options.dry_run))


def _purge_text(
    data: dict[str, Any], counted: _purgecount.PurgeCount | None, sessions: int, dry_run: bool
) -> str:
    what = plural(sessions, "expired session")
    if counted is not None:
        refresh = (
            f" (with {plural(counted.refresh_tokens, 'refresh token')})"
            if counted.refresh_tokens is not None
            else " (with their refresh tokens)"
        )
        what += (
            f"{refresh}, {plural(counted.denials, 'access-token denial')} "
            f"and {plural(counted.watermarks, 'subject watermark')}"
        )
    else:
        what += " with their refresh tokens, and stale denials and watermarks"
    cutoff = data["cutoffs"]["sessions_before"]["iso"]
    if dry_run:
        return (
            f"Dry run on {data['store']}: purge would remove {what}.\n"
            f"Sessions that ended at or before {cutoff} go; nothing was changed."
        )
    return f"Purged {what} from {data['store']} in {plural(data['batches'], 'batch')}."


__all__ = ("PurgeOptions", "purge", "revoke_session", "revoke_subject", "sessions", "with_store")
