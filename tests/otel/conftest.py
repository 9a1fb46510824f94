"""The real OpenTelemetry SDK, in memory: a metric reader and a span exporter per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests import backends
from tokenlife import KeySet, Policy, SecurityEvent, TokenAuthority
from tokenlife.otel import instrument
from tokenlife.store import Store
from tokenlife.testing import FrozenClock

KEYS = KeySet.from_secret(b"otel-tests-secret-of-at-least-32-bytes")
POLICY = Policy(
    issuer="https://api.example",
    audience="api",
    access_ttl=60,
    refresh_ttl=600,
    session_ttl=1800,
    grace=10,
)

#: (instrument name, its attributes as a sorted tuple of pairs) -> value.
Points = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@dataclass
class Telemetry:
    """An SDK meter provider and tracer provider whose output a test can read."""

    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)

    def __post_init__(self) -> None:
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def points(self) -> Points:
        """Counter sums and histogram counts, by instrument and attributes."""
        found: Points = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        pairs = (point.attributes or {}).items()
                        attrs = tuple(sorted((k, str(v)) for k, v in pairs))
                        if isinstance(point, HistogramDataPoint):
                            found[(metric.name, attrs)] = float(point.count)
                        else:
                            assert isinstance(point, NumberDataPoint)
                            found[(metric.name, attrs)] = float(point.value)
        return found

    def counters(self) -> Points:
        return {k: v for k, v in self.points().items() if k[0] != "tokenlife.store.duration"}

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        self.meter_provider.shutdown()
        self.tracer_provider.shutdown()


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    made = Telemetry()
    yield made
    made.shutdown()


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh store of each embedded backend (both are installed for these tests)."""
    found = backends.load(request.param)
    if isinstance(found, str):
        pytest.fail(found)
    async with found.open(tmp_path) as opened:
        yield opened


class Rig:
    """An instrumented authority on a frozen clock, recording its security events."""

    def __init__(self, store: Store, telemetry: Telemetry, policy: Policy = POLICY) -> None:
        self.clock = FrozenClock()
        self.events: list[SecurityEvent] = []
        self.auth = TokenAuthority(
            store, keys=KEYS, policy=policy, clock=self.clock, on_event=self.events.append
        )
        instrument(
            self.auth,
            meter_provider=telemetry.meter_provider,
            tracer_provider=telemetry.tracer_provider,
        )


@pytest.fixture
def rig(store: Store, telemetry: Telemetry) -> Rig:
    return Rig(store, telemetry)
