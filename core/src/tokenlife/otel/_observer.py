"""The observer: lifecycle outcomes in, counters and spans out.

One record per operation travels in a context variable, so the store wrapper
can add what only the store knows (which refresh decision it applied, whether
a revocation found its session) and the operation is counted once, as it ends.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Final

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.util.types import Attributes

from tokenlife._errors import ExpiredTokenError, StoreError, TokenError
from tokenlife._observe import Operation
from tokenlife._store import Reject, Replay, RevokeForReuse, Rotate

from ._instruments import CHECK, ERROR_TYPE, OPERATION, OUTCOME, REASON, REASONS, SCOPE_ATTR, Meters

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
_REJECTED: Final = {"expired": "expired", "revoked": "revoked", "unknown": "invalid"}


class OperationRecord:
    """What one lifecycle operation did, filled in as it runs."""

    __slots__ = ("context_token", "decision", "operation", "record_token", "revocation", "span")

    def __init__(self, operation: Operation, span: trace.Span) -> None:
        self.operation = operation
        self.span = span
        self.context_token: Token[context.Context] | None = None
        self.record_token: Token[OperationRecord | None] | None = None
        #: The refresh decision the store applied: its outcome, once known.
        self.decision: str | None = None
        #: How the store took a session revocation: revoked, already_revoked, unknown.
        self.revocation: str | None = None


#: The operation running in this task, if an instrumented authority started one.
CURRENT: ContextVar[OperationRecord | None] = ContextVar("tokenlife_operation", default=None)


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


class _Attributes:
    """Attribute mappings made once each: every value comes from a fixed list."""

    def __init__(self) -> None:
        self._made: dict[tuple[tuple[str, str], ...], Attributes] = {}

    def __call__(self, *pairs: tuple[str, str]) -> Attributes:
        found = self._made.get(pairs)
        if found is None:
            found = self._made[pairs] = dict(pairs)
        return found


class OtelObserver:
    """An :class:`~tokenlife.Observer` recording OpenTelemetry metrics and spans.

    ``strict`` says whether the authority's ``verify`` asks the store (its
    policy's revocation mode); it becomes the ``tokenlife.check`` attribute.
    """

    __slots__ = ("_attrs", "meters", "strict", "tracer")

    def __init__(self, meters: Meters, tracer: Tracer, *, strict: bool) -> None:
        self.meters = meters
        self.tracer = tracer
        self.strict = strict
        self._attrs = _Attributes()

    def begin(self, operation: Operation) -> OperationRecord:
        span = self.tracer.start_span(_SPAN_NAMES[operation], kind=SpanKind.INTERNAL)
        record = OperationRecord(operation, span)
        if span.get_span_context().is_valid:
            # Current while the operation runs, so store spans nest under it.
            record.context_token = context.attach(trace.set_span_in_context(span))
        record.record_token = CURRENT.set(record)
        return record

    def end(self, handle: object, result: object, error: BaseException | None) -> None:
        if not isinstance(handle, OperationRecord):
            return
        record = handle
        if record.record_token is not None:
            CURRENT.reset(record.record_token)
        try:
            if error is None or isinstance(error, Exception):
                self._count(record, result, error)
        finally:
            if record.context_token is not None:
                context.detach(record.context_token)
            record.span.end()

    def _count(self, record: OperationRecord, result: object, error: Exception | None) -> None:
        span, meters, attrs = record.span, self.meters, self._attrs
        operation = record.operation
        if isinstance(error, StoreError):
            meters.unavailable.add(1, attrs((OPERATION, operation)))
            span.set_attribute(ERROR_TYPE, StoreError.code)
            span.set_status(Status(StatusCode.ERROR, "store unavailable"))
            return
        if error is not None and not isinstance(error, TokenError):
            span.set_attribute(ERROR_TYPE, "other")
            span.set_status(Status(StatusCode.ERROR))
            return
        reason = None if error is None else reason_of(error)
        if operation == "refresh":
            if record.decision is not None:
                outcome = record.decision
            elif error is None:
                outcome = "rotated"
            else:
                outcome = "expired" if isinstance(error, ExpiredTokenError) else "invalid"
            pairs = (
                ((OUTCOME, outcome),) if reason is None else ((OUTCOME, outcome), (REASON, reason))
            )
            meters.refresh.add(1, attrs(*pairs))
        elif operation in ("verify", "verify_stateless"):
            check = "strict" if operation == "verify" and self.strict else "stateless"
            outcome = "valid" if error is None else "refused"
            if reason is None:
                meters.verify.add(1, attrs((OUTCOME, outcome), (CHECK, check)))
            else:
                meters.verify.add(1, attrs((OUTCOME, outcome), (CHECK, check), (REASON, reason)))
        elif operation == "issue":
            if error is None:
                meters.login.add(1)
            outcome = "created" if error is None else "refused"
        else:
            outcome = self._revocation(record, result)
            meters.revocation.add(1, attrs((SCOPE_ATTR, _SCOPES[operation]), (OUTCOME, outcome)))
        span.set_attribute(OUTCOME, outcome)
        if reason is not None:
            span.set_attribute(REASON, reason)

    @staticmethod
    def _revocation(record: OperationRecord, result: object) -> str:
        if record.operation == "revoke_subject":
            return "revoked"
        if record.revocation is not None:
            return record.revocation
        if record.operation == "revoke":
            return "ignored"  # no store call: an invalid or expired token
        return "revoked" if result else "unknown"


__all__ = ("OtelObserver",)
