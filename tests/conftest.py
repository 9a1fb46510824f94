"""Shared fixtures: the store backends every parametrized suite runs against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests import backends
from tests.security import _forge
from tokenlife.store import Store

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile("ci")


@pytest.fixture(params=backends.selected_names())
def backend(request: pytest.FixtureRequest) -> backends.Backend:
    """One store backend; skipped (or, in CI, failed) if it cannot run here."""
    found = backends.load(request.param)
    if isinstance(found, str):
        if backends.services_required():
            pytest.fail(f"required store backend unavailable: {found}")
        pytest.skip(found)
    request.config.add_cleanup(found.cleanup)
    return found


@pytest.fixture
async def store(backend: backends.Backend, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, empty store of the current backend."""
    async with backend.open(tmp_path) as opened:
        yield opened


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# Key material for the codec and hostile-input suites: generated once per
# session at run time, never committed.
@pytest.fixture(scope="session")
def hs() -> _forge.Material:
    return _forge.hs256()


@pytest.fixture(scope="session")
def ed() -> _forge.Material:
    return _forge.eddsa()


@pytest.fixture(scope="session")
def es() -> _forge.Material:
    return _forge.es256()


@pytest.fixture(scope="session")
def rs() -> _forge.Material:
    return _forge.rs256()
