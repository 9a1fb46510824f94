"""The hostile-input suites: long fuzzing runs only on request (keys: tests/conftest.py)."""

from __future__ import annotations

import pytest


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``slow`` tests (long fuzzing runs) run only when selected: ``-m slow``."""
    expression = str(item.config.getoption("markexpr", "") or "")
    selected = "slow" in expression and "not slow" not in expression
    if item.get_closest_marker("slow") is not None and not selected:
        pytest.skip("long fuzzing run; select it with -m slow")
