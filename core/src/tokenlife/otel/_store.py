"""A Store wrapper: every call timed (a histogram) and traced (a span).

It decides nothing and changes no result: it hands each call to the store it
wraps, and tells the operation in progress what the store answered where only
the store knows (the refresh decision applied, how a revocation went).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from types import TracebackType
from typing import Any, Final, TypeVar

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from tokenlife._errors import StoreError
from tokenlife._store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    SessionLimit,
    SessionRecord,
    Store,
)

from ._instruments import ERROR_TYPE, STORE_BACKEND, STORE_OPERATION, Meters
from ._observer import HANDOFF, decision_outcome
from ._tracing import Tracing

_T = TypeVar("_T")
_PREFIX: Final = "tokenlife_"


def backend_name(store: object) -> str:
    """``sqlite`` for ``tokenlife_sqlite.SQLiteStore``; else the class name, lowercased."""
    package = type(store).__module__.partition(".")[0]
    if package.startswith(_PREFIX) and len(package) > len(_PREFIX):
        return package[len(_PREFIX) :]
    return type(store).__name__.lower()


class InstrumentedStore:
    """The :class:`~tokenlife.Store` ``inner``, timed and traced call by call.

    Attributes the wrapped store has beyond the protocol are reached through
    this one, so code that knew the store as, say, a ``SQLiteStore`` still works.
    """

    __slots__ = ("_attributes", "_backend", "_durations", "_meters", "_spans", "_tracing", "inner")

    def __init__(
        self, inner: Store, *, meters: Meters, tracing: Tracing, durations: bool = True
    ) -> None:
        self.inner = inner
        self._meters = meters
        self._tracing = tracing
        self._durations = durations
        self._backend = backend_name(inner)
        self._attributes: dict[str, dict[str, str]] = {}
        self._spans: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"InstrumentedStore({self.inner!r})"

    async def _timed(self, operation: str, call: Awaitable[_T]) -> _T:
        tracer = self._tracing.tracer()
        if tracer is None:  # the common case, kept short
            if not self._durations:
                return await call
            attributes = self._attributes.get(operation) or self._attributes_of(operation)
            start = time.perf_counter()
            try:
                result = await call
            except StoreError:
                failed = {**attributes, ERROR_TYPE: StoreError.code}
                self._meters.store_duration.record(time.perf_counter() - start, failed)
                raise
            self._meters.store_duration.record(time.perf_counter() - start, attributes)
            return result
        attributes = self._attributes_of(operation)
        span = token = None
        if tracer is not None:
            span = tracer.start_span(
                self._spans[operation], kind=SpanKind.INTERNAL, attributes=attributes
            )
            if span.get_span_context().is_valid:
                # A database driver's own instrumentation then nests under this span.
                token = context.attach(trace.set_span_in_context(span))
        start = time.perf_counter()
        try:
            result = await call
        except BaseException as exc:
            if isinstance(exc, StoreError):
                if self._durations:
                    failed = {**attributes, ERROR_TYPE: StoreError.code}
                    self._meters.store_duration.record(time.perf_counter() - start, failed)
                if span is not None:
                    span.set_attribute(ERROR_TYPE, StoreError.code)
                    span.set_status(Status(StatusCode.ERROR, "store unavailable"))
            raise
        else:
            if self._durations:
                self._meters.store_duration.record(time.perf_counter() - start, attributes)
            return result
        finally:
            if token is not None:
                context.detach(token)
            if span is not None:
                span.end()

    def _attributes_of(self, operation: str) -> dict[str, str]:
        attributes = self._attributes.get(operation)
        if attributes is None:
            attributes = self._attributes[operation] = {
                STORE_OPERATION: operation,
                STORE_BACKEND: self._backend,
            }
            self._spans[operation] = f"tokenlife.store.{operation}"
        return attributes

    # -- the Store protocol ------------------------------------------------------

    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        return await self._timed(
            "create_session", self.inner.create_session(session, first, limit=limit)
        )

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        if self._durations or self._tracing.tracer() is not None:
            decision = await self._timed("refresh", self.inner.refresh(request))
        else:
            decision = await self.inner.refresh(request)
        pending = HANDOFF.get()
        if pending is not None:
            pending.decision = decision_outcome(decision)
        return decision

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        return await self._timed("access_status", self.inner.access_status(jti, sid, subject))

    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        session = await self._timed(
            "revoke_session", self.inner.revoke_session(sid, now=now, reason=reason, deny=deny)
        )
        pending = HANDOFF.get()
        if pending is not None:
            if session is None:
                pending.revocation = "unknown"
            else:
                pending.revocation = "revoked" if session.revoked_at == now else "already_revoked"
        return session

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        return await self._timed(
            "revoke_subject",
            self.inner.revoke_subject(subject, now=now, reason=reason, keep_sid=keep_sid),
        )

    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        await self._timed("deny_access", self.inner.deny_access(jti, until=until, now=now))

    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        return await self._timed("claim_once", self.inner.claim_once(key, until=until, now=now))

    async def session(self, sid: str) -> SessionRecord | None:
        return await self._timed("session", self.inner.session(sid))

    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        return await self._timed("refresh_record", self.inner.refresh_record(jti, sid=sid))

    async def sessions(self, subject: str) -> list[SessionRecord]:
        return await self._timed("sessions", self.inner.sessions(subject))

    async def purge(self, request: PurgeRequest) -> int:
        return await self._timed("purge", self.inner.purge(request))

    async def close(self) -> None:
        await self.inner.close()

    async def __aenter__(self) -> InstrumentedStore:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.inner.__aexit__(exc_type, exc, tb)


__all__ = ("InstrumentedStore",)
