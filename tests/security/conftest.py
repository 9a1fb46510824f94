"""Keys for the hostile-input suites, generated once per session (never committed)."""

from __future__ import annotations

import pytest

from tests.security import _forge


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``slow`` tests (long fuzzing runs) run only when selected: ``-m slow``."""
    expression = str(item.config.getoption("markexpr", "") or "")
    selected = "slow" in expression and "not slow" not in expression
    if item.get_closest_marker("slow") is not None and not selected:
        pytest.skip("long fuzzing run; select it with -m slow")


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
