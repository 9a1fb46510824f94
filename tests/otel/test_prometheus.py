"""The Prometheus exporter's page after a real run (opentelemetry-exporter-prometheus)."""

from __future__ import annotations

import pytest
from opentelemetry import metrics
from prometheus_client.parser import text_string_to_metric_families

from tests.otel.conftest import KEYS, POLICY
from tokenlife import ReuseDetectedError, TokenAuthority
from tokenlife.otel import prometheus, uninstrument
from tokenlife.store import Store
from tokenlife.testing import FrozenClock

pytestmark = pytest.mark.anyio


def samples(page: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(page.decode("utf-8")):
        for sample in family.samples:
            # The exporter gives every series of a family the same labels ("" if unset).
            labels = tuple(
                sorted((k, v) for k, v in sample.labels.items() if k.startswith("tok") and v)
            )
            found[(sample.name, labels)] = sample.value
    return found


async def reuse_detection(auth: TokenAuthority, clock: FrozenClock) -> None:
    first = await auth.issue("alice")
    clock.advance(1)
    await auth.refresh(first.refresh_token)
    clock.advance(POLICY.grace + 1)
    with pytest.raises(ReuseDetectedError):
        await auth.refresh(first.refresh_token)


async def test_after_a_reuse_detection_the_scrape_shows_it(store: Store) -> None:
    clock = FrozenClock()
    auth = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)
    page_source = prometheus.install(auth, set_global=False)
    await reuse_detection(auth, clock)
    page = page_source.render()
    assert page.content_type.startswith("text/plain; version=")
    found = samples(page.body)
    reuse = (
        "tokenlife_refresh_total",
        (("tokenlife_outcome", "reuse_detected"), ("tokenlife_reason", "reuse_detected")),
    )
    assert found[reuse] >= 1
    assert found[("tokenlife_refresh_total", (("tokenlife_outcome", "rotated"),))] == 1
    assert found[("tokenlife_login_total", ())] == 1
    backend = type(store).__module__.split(".")[0].removeprefix("tokenlife_")
    duration = (
        "tokenlife_store_duration_seconds_count",
        (("tokenlife_store_backend", backend), ("tokenlife_store_operation", "refresh")),
    )
    assert found[duration] == 2
    page_source.shutdown()


async def test_openmetrics_when_the_scraper_asks(store: Store) -> None:
    clock = FrozenClock()
    auth = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)
    page_source = prometheus.install(auth, set_global=False)
    await auth.issue("alice")
    page = page_source.render("application/openmetrics-text; version=1.0.0")
    assert page.content_type.startswith("application/openmetrics-text")
    assert page.body.rstrip().endswith(b"# EOF")
    assert b"tokenlife_login_total" in page.body
    page_source.shutdown()


async def test_two_installs_keep_their_own_pages(store: Store) -> None:
    clock = FrozenClock()
    one = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)
    two = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)
    first, second = (
        prometheus.install(one, set_global=False),
        prometheus.install(two, set_global=False),
    )
    await one.issue("alice")
    await one.issue("bob")
    await two.issue("carol")
    assert samples(first.render().body)[("tokenlife_login_total", ())] == 2
    assert samples(second.render().body)[("tokenlife_login_total", ())] == 1
    uninstrument(one)
    assert one.observer is None and one.store is store
    await one.issue("dave")
    assert samples(first.render().body)[("tokenlife_login_total", ())] == 2
    first.shutdown()
    second.shutdown()


def test_install_sets_the_global_meter_provider_once() -> None:
    installed = prometheus.install()
    try:
        assert metrics.get_meter_provider() is installed.meter_provider
        again = prometheus.install()
        assert metrics.get_meter_provider() is installed.meter_provider
        again.shutdown()
    finally:
        installed.shutdown()
