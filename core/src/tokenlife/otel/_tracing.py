"""The tracer to use, or none: no span is made while nobody could record it."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.trace import NoOpTracerProvider, ProxyTracerProvider, Tracer, TracerProvider

from tokenlife import __version__

from ._instruments import SCOPE

_SILENT = (NoOpTracerProvider, ProxyTracerProvider)


class Tracing:
    """A tracer from ``provider``, or from the global provider once one is installed.

    Until then (OpenTelemetry's default proxy) :meth:`tracer` is ``None`` and
    the instrumentation skips its spans: a no-op span still costs a context
    switch and a few objects per call.
    """

    __slots__ = ("_follow_global", "_tracer")

    def __init__(self, provider: TracerProvider | None) -> None:
        self._follow_global = provider is None
        self._tracer: Tracer | None = None
        if provider is not None and not isinstance(provider, _SILENT):
            self._tracer = provider.get_tracer(SCOPE, __version__)

    def tracer(self) -> Tracer | None:
        if self._tracer is None and self._follow_global:
            provider = trace.get_tracer_provider()
            if not isinstance(provider, _SILENT):
                self._tracer = provider.get_tracer(SCOPE, __version__)
        return self._tracer


__all__ = ("Tracing",)
