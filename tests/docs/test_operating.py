"""docs/operating.md: its instrument table, its sample scrape, operating.py's /metrics app."""

from __future__ import annotations

import httpx
import pytest

from docs.examples import operating
from tests.docs.conftest import DOCS, make_authority
from tokenlife.otel import INSTRUMENTS, uninstrument
from tokenlife.otel.prometheus import install
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

PAGE = DOCS / "operating.md"


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0].startswith("`tokenlife."):
            rows[cells[0].strip("`")] = cells
    return rows


def test_the_table_lists_every_instrument_with_its_kind_unit_and_attributes() -> None:
    rows = _rows()
    assert set(rows) == {spec.name for spec in INSTRUMENTS}
    for spec in INSTRUMENTS:
        _, kind, unit, _, attributes = rows[spec.name]
        assert kind == spec.kind, spec.name
        assert unit == f"`{spec.unit}`", spec.name
        for attribute in spec.attributes:
            assert f"`{attribute.key}`" in attributes, (spec.name, attribute.key)
            if attribute.key != "tokenlife.reason" and "…" not in attribute.values:
                for value in attribute.values:
                    assert f"`{value}`" in attributes, (spec.name, attribute.key, value)


def _sample_block() -> list[str]:
    text = PAGE.read_text(encoding="utf-8").split("## A sample scrape", 1)[1]
    return text.split("```text\n", 1)[1].split("```", 1)[0].splitlines()


@pytest.mark.anyio
async def test_the_sample_scrape_is_what_the_script_produces() -> None:
    assert await operating.scripted_run() == _sample_block()


@pytest.mark.anyio
async def test_the_metrics_endpoint_serves_the_scrape(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        metrics = install(auth, set_global=False)
        await auth.issue("alice")
        app = operating.metrics_endpoint(metrics)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as client:
            plain = await client.get("/metrics")
            open_metrics = await client.get(
                "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
            )
        assert plain.status_code == 200
        assert plain.headers["content-type"].startswith("text/plain; version=")
        assert "tokenlife_login_total" in plain.text
        assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
        assert open_metrics.text.rstrip().endswith("# EOF")
        assert operating.with_your_own_sdk(uninstrument(auth)).observer is not None
        metrics.shutdown()
