"""The OpenTelemetry SDK with its Prometheus exporter, for an app serving ``GET /metrics``.

The ``tokenlife[prometheus]`` extra. A library leaves the SDK to the
application; this module is for applications (tokenlife's seed apps among
them) that want the usual setup in one call::

    metrics = tokenlife.otel.prometheus.install(authority)
    page = metrics.render(request.headers.get("accept"))  # in the /metrics route
    # -> page.body (bytes), page.content_type

Rendering is plain bytes, so any framework serves it with its own response.
The page is not authenticated: expose it only where scrapers, not clients, reach.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Final

from opentelemetry import metrics as otel_metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from . import instrument as _instrument

if typing.TYPE_CHECKING:
    from tokenlife._authority import TokenAuthority

#: The Prometheus text format, what a scrape without an Accept header gets.
TEXT_CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"
_GLOBAL: list[MeterProvider] = []


@dataclass(frozen=True)
class MetricsPage:
    """One scrape: the body and its ``Content-Type``."""

    body: bytes
    content_type: str


class PrometheusMetrics:
    """An SDK ``MeterProvider`` whose one reader is a Prometheus exporter.

    Its registry is its own (not ``prometheus_client``'s global one), so two
    apps in one process never count into each other's page.
    """

    __slots__ = ("meter_provider", "reader", "registry")

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.reader = PrometheusMetricReader(registry=self.registry)
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(
        self,
        authority: TokenAuthority,
        *,
        tracer_provider: TracerProvider | None = None,
        store_durations: bool = True,
    ) -> TokenAuthority:
        """:func:`tokenlife.otel.instrument` with this meter provider."""
        return _instrument(
            authority,
            meter_provider=self.meter_provider,
            tracer_provider=tracer_provider,
            store_durations=store_durations,
        )

    def render(self, accept: str | None = None) -> MetricsPage:
        """The page for a scrape whose ``Accept`` header is ``accept``.

        The Prometheus text format unless the scraper asks for OpenMetrics.
        """
        encoder, content_type = choose_encoder(accept or "")
        return MetricsPage(body=encoder(self.registry), content_type=content_type)

    def shutdown(self) -> None:
        """Stop the provider; its page then stays as it was."""
        self.meter_provider.shutdown()


def install(*authorities: TokenAuthority, set_global: bool = True) -> PrometheusMetrics:
    """Install the SDK with a Prometheus exporter and instrument ``authorities``.

    With ``set_global`` the provider becomes OpenTelemetry's global one (so a
    framework's own instrumentation reports to the same page), unless this
    process already installed one: OpenTelemetry allows that once.
    """
    installed = PrometheusMetrics()
    if set_global and not _GLOBAL:
        _GLOBAL.append(installed.meter_provider)
        otel_metrics.set_meter_provider(installed.meter_provider)
    for authority in authorities:
        installed.instrument(authority)
    return installed


__all__ = ("TEXT_CONTENT_TYPE", "MetricsPage", "PrometheusMetrics", "install")
