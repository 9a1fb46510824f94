"""Reports how many examples the lifecycle kit needed to catch each mutant store."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.property import test_mutants

    if not test_mutants.CAUGHT:
        return
    terminalreporter.section("mutant stores: examples to catch (budget 200)")
    for name, (first, seconds) in sorted(test_mutants.CAUGHT.items()):
        terminalreporter.write_line(f"{name:<30} {first:>4} examples  {seconds:6.1f} s")
