"""The observer: lifecycle outcomes in, counters and spans out.

A handoff travels in a context variable, so the store wrapper
can add what only the store knows (which refresh decision it applied, whether
a revocation found its session) and the operation is counted once, as it ends.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Final, cast

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from tokenlife._errors import ExpiredTokenError, StoreError, TokenError
from tokenlife._observe import Operation
from tokenlife._store import Reject, Replay, RevokeForReuse, Rotate

from ._instruments import CHECK, ERROR_TYPE, OPERATION, OUTCOME, REASON, REASONS, SCOPE_ATTR, Meters
from ._tracing import Tracing

_REASONS: Final = frozenset(REASONS)
_SPAN_NAMES: Final = {
    op: f"tokenlife.{op}"
    for op in (
        "issue",
        "verify",
        "verify_stateless",
        "refresh",
        "revoke",
        "revoke_session",
        "revoke_subject",
    )
}
_SCOPES: Final = {"revoke": "token", "revoke_session": "session", "revoke_subject": "subject"}
_REJECTED: Final = {
    "expired": "expired",
    "revoked": "revoked",
    "unknown": "invalid",
    "clock_behind": "invalid",
}


class Handoff:
    """What only the store knows, passed from the store wrapper to the operation's end.

    The store wrapper writes it as the store call returns; the operation ends
    before its task can be suspended again (nothing between is awaited), so no
    other operation can write in between. ``begin`` clears it, and it lives in
    a context variable, so each thread's event loop has its own.
    """

    __slots__ = ("decision", "revocation")

    def __init__(self) -> None:
        #: The refresh decision the store applied, as its outcome.
        self.decision: str | None = None
        #: How the store took a session revocation: revoked, already_revoked, unknown.
        self.revocation: str | None = None


HANDOFF: ContextVar[Handoff | None] = ContextVar("tokenlife_handoff", default=None)


def handoff() -> Handoff:
    found = HANDOFF.get()
    if found is None:
        found = Handoff()
        HANDOFF.set(found)
    return found


class Traced:
    """An operation with a span (only while a tracer provider is installed)."""

    __slots__ = ("context_token", "operation", "span")

    def __init__(self, operation: Operation, span: trace.Span) -> None:
        self.operation = operation
        self.span = span
        self.context_token: Token[context.Context] | None = None


def decision_outcome(decision: object) -> str:
    """A refresh decision as the ``tokenlife.outcome`` it counts under."""
    if isinstance(decision, Rotate):
        return "rotated"
    if isinstance(decision, Replay):
        return "grace_replay"
    if isinstance(decision, RevokeForReuse):
        return "reuse_detected"
    if isinstance(decision, Reject):
        return _REJECTED.get(decision.reason, "invalid")
    return "invalid"


def reason_of(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return code if isinstance(code, str) and code in _REASONS else "other"


class OtelObserver:
    """An :class:`~tokenlife.Observer` recording OpenTelemetry metrics and spans.

    ``strict`` says whether the authority's ``verify`` asks the store (its
    policy's revocation mode); it becomes the ``tokenlife.check`` attribute.
    """

    __slots__ = ("_verify_check", "meters", "strict", "tracing")

    def __init__(self, meters: Meters, tracing: Tracing, *, strict: bool) -> None:
        self.meters = meters
        self.tracing = tracing
        self.strict = strict
        self._verify_check = "strict" if strict else "stateless"

    def begin(self, operation: Operation) -> Traced | str:
        pending = handoff()
        pending.decision = pending.revocation = None
        tracer = self.tracing.tracer()
        if tracer is None:
            return operation
        traced = Traced(
            operation, tracer.start_span(_SPAN_NAMES[operation], kind=SpanKind.INTERNAL)
        )
        if traced.span.get_span_context().is_valid:
            # Current while the operation runs, so store spans nest under it.
            traced.context_token = context.attach(trace.set_span_in_context(traced.span))
        return traced

    def end(self, handle: object, result: object, error: BaseException | None) -> None:
        if isinstance(handle, str):
            if error is None or isinstance(error, Exception):
                self._count(cast("Operation", handle), None, result, error)
            return
        if not isinstance(handle, Traced):
            return
        try:
            if error is None or isinstance(error, Exception):
                self._count(handle.operation, handle.span, result, error)
        finally:
            if handle.context_token is not None:
                context.detach(handle.context_token)
            handle.span.end()

    def _count(
        self, operation: Operation, span: trace.Span | None, result: object, error: Exception | None
    ) -> None:
        meters = self.meters
        if error is None:
            reason = None
        elif isinstance(error, TokenError):
            reason = reason_of(error)
        else:
            if isinstance(error, StoreError):
                meters.unavailable.add(_UNAVAILABLE[operation])
            if span is not None:
                code = StoreError.code if isinstance(error, StoreError) else "other"
                span.set_attribute(ERROR_TYPE, code)
                span.set_status(Status(StatusCode.ERROR, code))
            return
        if operation == "refresh":
            decision = handoff().decision
            if decision is not None:
                outcome = decision
            elif error is None:
                outcome = "rotated"
            else:
                outcome = "expired" if isinstance(error, ExpiredTokenError) else "invalid"
            meters.refresh.add(_key(OUTCOME, outcome, reason))
        elif operation == "verify" or operation == "verify_stateless":
            check = self._verify_check if operation == "verify" else "stateless"
            outcome = "valid" if error is None else "refused"
            meters.verify.add(_verify_key(check, outcome, reason))
        elif operation == "issue":
            outcome = "created" if error is None else "refused"
            if error is None:
                meters.login.add(())
        else:
            outcome = self._revocation(operation, result)
            meters.revocation.add(((OUTCOME, outcome), (SCOPE_ATTR, _SCOPES[operation])))
        if span is not None:
            span.set_attribute(OUTCOME, outcome)
            if reason is not None:
                span.set_attribute(REASON, reason)

    @staticmethod
    def _revocation(operation: Operation, result: object) -> str:
        if operation == "revoke_subject":
            return "revoked"
        revocation = handoff().revocation
        if revocation is not None:
            return revocation
        if operation == "revoke":
            return "ignored"  # no store call: an invalid or expired token
        return "revoked" if result else "unknown"


Key = tuple[tuple[str, str], ...]
_UNAVAILABLE: Final[dict[str, Key]] = {op: ((OPERATION, op),) for op in _SPAN_NAMES}


def _key(name: str, value: str, reason: str | None) -> Key:
    return ((name, value),) if reason is None else ((name, value), (REASON, reason))


def _verify_key(check: str, outcome: str, reason: str | None) -> Key:
    if reason is None:
        return ((CHECK, check), (OUTCOME, outcome))
    return ((CHECK, check), (OUTCOME, outcome), (REASON, reason))


__all__ = ("OtelObserver",)
