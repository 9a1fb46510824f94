"""Every instrument tokenlife records, as data: the docs' table is drawn from it.

Names follow the OpenTelemetry semantic-convention style (``tokenlife.refresh``,
attribute ``tokenlife.outcome``); a Prometheus exporter turns them into
``tokenlife_refresh_total{tokenlife_outcome="rotated"}``. Every attribute
value comes from a short fixed list: never a token, a ``jti``, a subject or a
session id, so no series can multiply with users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation

#: The instrumentation scope: the meter's and the tracer's name.
SCOPE: Final = "tokenlife"

OUTCOME: Final = "tokenlife.outcome"
REASON: Final = "tokenlife.reason"
CHECK: Final = "tokenlife.check"
SCOPE_ATTR: Final = "tokenlife.scope"
OPERATION: Final = "tokenlife.operation"
STORE_OPERATION: Final = "tokenlife.store.operation"
STORE_BACKEND: Final = "tokenlife.store.backend"
ERROR_TYPE: Final = "error.type"

#: Store-call durations are micro- to milliseconds: the default buckets
#: (0 to 10,000, made for milliseconds) would put every call in the first one.
DURATION_BUCKETS: Final = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
)


@dataclass(frozen=True)
class Attribute:
    """One attribute an instrument carries, and every value it can take."""

    key: str
    values: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Instrument:
    """One instrument: what it counts or measures, in which unit, with which attributes."""

    name: str
    kind: Literal["counter", "histogram"]
    unit: str
    description: str
    attributes: tuple[Attribute, ...]


#: Refusal reasons: the ``code`` of the :class:`~tokenlife.TokenError` raised,
#: from a fixed list; any other code is reported as ``other``.
REASONS: Final = (
    "invalid_token",
    "malformed",
    "too_large",
    "bad_header",
    "bad_algorithm",
    "unknown_key",
    "bad_signature",
    "wrong_type",
    "bad_claim",
    "bad_claim_type",
    "bad_issuer",
    "bad_audience",
    "missing_claim",
    "expired",
    "not_yet_valid",
    "revoked",
    "superseded",
    "clock_behind",
    "unknown_token",
    "reuse_detected",
    "invalid_dpop_proof",
    "use_dpop_nonce",
    "dpop_required",
    "dpop_key_mismatch",
    "dpop_not_bound",
    "other",
)
REFRESH_OUTCOMES: Final = (
    "rotated",
    "grace_replay",
    "reuse_detected",
    "expired",
    "revoked",
    "invalid",
)
OPERATIONS: Final = (
    "issue",
    "verify",
    "verify_stateless",
    "refresh",
    "revoke",
    "revoke_session",
    "revoke_subject",
)
STORE_OPERATIONS: Final = (
    "create_session",
    "refresh",
    "access_status",
    "revoke_session",
    "revoke_subject",
    "deny_access",
    "claim_once",
    "session",
    "refresh_record",
    "sessions",
    "purge",
)

_REASON = Attribute(REASON, REASONS, "on refusals only: the error's `code`")

INSTRUMENTS: Final = (
    Instrument(
        "tokenlife.refresh",
        "counter",
        "{refresh}",
        "Refresh attempts, by outcome.",
        (Attribute(OUTCOME, REFRESH_OUTCOMES), _REASON),
    ),
    Instrument(
        "tokenlife.verify",
        "counter",
        "{verification}",
        "Access-token verifications, by outcome and refusal reason.",
        (
            Attribute(OUTCOME, ("valid", "refused")),
            _REASON,
            Attribute(CHECK, ("strict", "stateless"), "strict: the store was asked too"),
        ),
    ),
    Instrument(
        "tokenlife.revocation",
        "counter",
        "{revocation}",
        "Revocation requests, by scope and outcome.",
        (
            Attribute(SCOPE_ATTR, ("token", "session", "subject")),
            Attribute(
                OUTCOME,
                ("revoked", "already_revoked", "unknown", "ignored"),
                "ignored: an invalid or expired token (RFC 7009 §2.2)",
            ),
        ),
    ),
    Instrument(
        "tokenlife.login",
        "counter",
        "{session}",
        "Sessions created (logins).",
        (),
    ),
    Instrument(
        "tokenlife.store.unavailable",
        "counter",
        "{refusal}",
        "Operations refused because the store failed (tokenlife fails closed).",
        (Attribute(OPERATION, OPERATIONS),),
    ),
    Instrument(
        "tokenlife.store.duration",
        "histogram",
        "s",
        "Duration of store calls.",
        (
            Attribute(STORE_OPERATION, STORE_OPERATIONS),
            Attribute(STORE_BACKEND, ("memory", "sqlite", "redis", "postgres", "…")),
            Attribute(ERROR_TYPE, ("store_unavailable",), "on failures only"),
        ),
    ),
)


def _spec(name: str) -> Instrument:
    return next(spec for spec in INSTRUMENTS if spec.name == name)


Key = tuple[tuple[str, str], ...]


class Tally:
    """Counts by attribute set, reported by an observable counter when a reader collects.

    A synchronous SDK counter spends microseconds per ``add`` (a measurement
    object, the context, hashing the attributes, a lock); a refresh takes a
    few tens of them. Counting here is one dict update, and the reader gets
    the same cumulative sums. Updates happen on the event loop's thread.
    """

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[Key, int] = {}

    def add(self, key: Key) -> None:
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1

    def observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(value, dict(key)) for key, value in list(self.counts.items())]


@dataclass(frozen=True)
class Meters:
    """The instruments of one meter, and the tallies its counters report."""

    refresh: Tally
    verify: Tally
    revocation: Tally
    login: Tally
    unavailable: Tally
    store_duration: Histogram

    @classmethod
    def create(cls, meter: Meter) -> Meters:
        def counter(name: str) -> Tally:
            spec, tally = _spec(name), Tally()
            meter.create_observable_counter(
                spec.name, callbacks=[tally.observe], unit=spec.unit, description=spec.description
            )
            return tally

        duration = _spec("tokenlife.store.duration")
        return cls(
            refresh=counter("tokenlife.refresh"),
            verify=counter("tokenlife.verify"),
            revocation=counter("tokenlife.revocation"),
            login=counter("tokenlife.login"),
            unavailable=counter("tokenlife.store.unavailable"),
            store_duration=meter.create_histogram(
                duration.name,
                unit=duration.unit,
                description=duration.description,
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
            ),
        )


__all__ = ("INSTRUMENTS", "SCOPE", "Attribute", "Instrument")
