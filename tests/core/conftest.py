"""Keys for the core suites, generated once per session (never committed)."""

from __future__ import annotations

import pytest

from tests.security import _forge


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
