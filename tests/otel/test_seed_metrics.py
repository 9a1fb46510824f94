"""The seed app with ``TOKENLIFE_METRICS=1``: a real run, then a Prometheus scrape."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.fixture(params=[("seed_app", "tokenlife_litestar"), ("seed_fastapi", "tokenlife_fastapi")])
def seed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[ModuleType]:
    name, adapter = request.param
    pytest.importorskip(adapter)
    monkeypatch.setenv("TOKENLIFE_SECRET", "seed-metrics-secret-0123456789abcdefghij")
    monkeypatch.setenv("TOKENLIFE_SECURE_COOKIES", "0")
    monkeypatch.setenv("TOKENLIFE_DB", str(tmp_path / "seed.sqlite3"))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop(name, None)
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


def refresh_outcomes(page: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == "tokenlife_refresh_total":
                found[sample.labels["tokenlife_outcome"]] = sample.value
    return found


def test_after_a_reuse_detection_metrics_show_it(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENLIFE_METRICS", "1")
    clock = FrozenClock()
    app = seed.create_app(store=MemoryStore(), clock=clock)
    with TestClient(app) as client:
        login = client.post("/login", json={"username": "test", "password": "test"})
        first = login.json()["refresh_token"]
        client.cookies.clear()
        clock.advance(1)
        assert client.post("/refresh", json={"refresh_token": first}).status_code == 200
        clock.advance(30)  # past the grace window: the old token again is reuse
        assert client.post("/refresh", json={"refresh_token": first}).status_code == 401
        scrape = client.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    outcomes = refresh_outcomes(scrape.text)
    assert outcomes.get("reuse_detected", 0) >= 1, outcomes
    assert outcomes.get("rotated", 0) >= 1, outcomes


def test_without_the_switch_there_is_no_metrics_route(seed: ModuleType) -> None:
    with TestClient(seed.create_app(store=MemoryStore())) as client:
        assert client.get("/metrics").status_code == 404
