"""The package's shape: tuple ``__all__`` everywhere, naming only what exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tokenlife_cli

MODULES = [
    "tokenlife_cli",
    *(info.name for info in pkgutil.iter_modules(tokenlife_cli.__path__, "tokenlife_cli.")),
]


@pytest.mark.parametrize("name", [m for m in MODULES if not m.endswith("__main__")])
def test_tuple_all_naming_real_bindings(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, tuple), f"{name}.__all__ must be a tuple"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing bindings {missing}"


def test_main_runs_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """``main`` returns the exit code instead of exiting (the console script exits)."""
    assert tokenlife_cli.main(["sessions", "alice", "--store", "nope://x"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("tokenlife: error: unknown store scheme 'nope'")
