"""The public surface: tuple ``__all__`` everywhere, and exports that match it (anyio-style).

Written generically: the package grows, this test does not need to.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import tokenlife

_FEATURE = type(importlib.import_module("__future__").annotations)


def _modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(tokenlife.__path__, "tokenlife.")]
    return ["tokenlife", *sorted(names)]


def _is_public(qualified: str) -> bool:
    return not any(part.startswith("_") for part in qualified.split("."))


def _bindings(module: ModuleType) -> dict[str, object]:
    """Names bound in a module, without submodules and ``from __future__`` flags."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and not isinstance(value, _FEATURE)
    }


def _sort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: SCREAMING_CASE, CamelCase, then the rest."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("name", _modules())
def test_every_module_has_a_tuple_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, tuple), f"{name}.__all__ must be a tuple"
    assert all(isinstance(item, str) for item in exported)
    assert len(set(exported)) == len(exported), f"duplicates in {name}.__all__"
    assert list(exported) == sorted(exported, key=_sort_key), f"{name}.__all__ is not sorted"
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names {item!r}, which does not exist"


def _ours(value: object) -> bool:
    """Defined by tokenlife (or a plain value bound in it), not imported from elsewhere."""
    origin = getattr(value, "__module__", None)
    return not isinstance(origin, str) or origin.split(".")[0] == "tokenlife"


@pytest.mark.parametrize("name", [n for n in _modules() if _is_public(n)])
def test_public_modules_export_exactly_their_all(name: str) -> None:
    """A public module exports all it binds of tokenlife's own, and nothing else."""
    module = importlib.import_module(name)
    ours = {n for n, value in _bindings(module).items() if _ours(value)}
    exported = {n for n in module.__all__ if not n.startswith("__")}
    assert ours - exported == set(), f"{name} binds tokenlife names missing from __all__"
    assert exported <= set(_bindings(module)), f"{name}.__all__ names what it does not bind"


def test_package_exports_come_from_their_modules() -> None:
    """Each name the package exports is declared by the ``__all__`` of a tokenlife module."""
    declared: dict[str, set[str]] = {}
    for name in _modules()[1:]:
        for item in importlib.import_module(name).__all__:
            declared.setdefault(item, set()).add(name)
    for item in tokenlife.__all__:
        if item.startswith("__"):
            continue
        assert item in declared, f"tokenlife.{item} is not in any submodule's __all__"
        value = getattr(tokenlife, item)
        origin = getattr(value, "__module__", None)
        if (inspect.isclass(value) or inspect.isfunction(value)) and origin in declared[item]:
            assert getattr(importlib.import_module(origin), item) is value


def test_fixed_names_of_the_architecture_are_public() -> None:
    for item in ("KeySet", "Key", "Codec", "TokenPair", "TokenError", "Claims", "__version__"):
        assert item in tokenlife.__all__
    assert isinstance(tokenlife.__version__, str)


def test_every_error_has_a_distinct_code() -> None:
    errors = [
        value
        for item in tokenlife.__all__
        if inspect.isclass(value := getattr(tokenlife, item))
        and issubclass(value, tokenlife.TokenLifeError)
    ]
    assert tokenlife.TokenError in errors
    codes = [error.code for error in errors]
    assert len(set(codes)) == len(codes), codes
    for error in errors:
        assert error.code and error.code == error.code.strip().lower()
