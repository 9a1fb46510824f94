"""OpenTelemetry metrics and spans for tokenlife (the ``tokenlife[otel]`` extra).

``instrument(authority)`` sets an observer on the authority and wraps its
store, against ``opentelemetry-api`` only: until the application installs an
SDK (a ``MeterProvider`` with a reader, a ``TracerProvider``), every call is a
no-op. Nothing in tokenlife imports this module unless the application does.
"""

from __future__ import annotations

import typing

from opentelemetry import metrics
from opentelemetry.metrics import Meter, MeterProvider
from opentelemetry.trace import TracerProvider

from tokenlife import __version__ as _version

from ._instruments import INSTRUMENTS, SCOPE, Attribute, Instrument
from ._instruments import Meters as _Meters
from ._observer import OtelObserver
from ._store import InstrumentedStore
from ._tracing import Tracing as _Tracing

#: Instruments already made on a meter: making them again would log warnings.
_MADE: dict[Meter, _Meters] = {}

if typing.TYPE_CHECKING:
    from tokenlife._authority import TokenAuthority


def instrument(
    authority: TokenAuthority,
    *,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
    store_durations: bool = True,
) -> TokenAuthority:
    """Record ``authority``'s lifecycle as metrics and spans; returns it.

    In place, so every holder of the authority is instrumented; calling it
    again replaces the providers. Without ``meter_provider`` or
    ``tracer_provider`` the global ones are used (``metrics.set_meter_provider``),
    even if they are installed only later. ``store_durations=False`` leaves
    out the ``tokenlife.store.duration`` histogram: each of its measurements
    goes through the SDK on the request path, at several microseconds apiece
    (the counters are tallied in tokenlife and read by the SDK at collection).
    """
    meter = metrics.get_meter(SCOPE, _version, meter_provider)
    meters = _MADE.get(meter)
    if meters is None:
        meters = _MADE[meter] = _Meters.create(meter)
    tracing = _Tracing(tracer_provider)
    store = authority.store
    inner = store.inner if isinstance(store, InstrumentedStore) else store
    authority.store = InstrumentedStore(
        inner, meters=meters, tracing=tracing, durations=store_durations
    )
    authority.observer = OtelObserver(
        meters, tracing, strict=authority.policy.revocation == "strict"
    )
    return authority


def uninstrument(authority: TokenAuthority) -> TokenAuthority:
    """Undo :func:`instrument`: the authority's own store back, no observer."""
    store = authority.store
    if isinstance(store, InstrumentedStore):
        authority.store = store.inner
    if isinstance(authority.observer, OtelObserver):
        authority.observer = None
    return authority


__all__ = (
    "INSTRUMENTS",
    "SCOPE",
    "Attribute",
    "Instrument",
    "InstrumentedStore",
    "OtelObserver",
    "instrument",
    "uninstrument",
)
