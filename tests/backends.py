"""The stores the parametrized suites run against, one module per backend.

Each ``tests/stores/backend_<name>.py`` exposes ``BACKEND``, a :class:`Backend`.
``TOKENLIFE_STORES`` (comma-separated names) selects backends; by default every
backend whose adapter is installed. With ``TOKENLIFE_REQUIRE_SERVICES=1`` (CI),
a selected backend that cannot run fails instead of skipping.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tokenlife.store import Store

KNOWN = ("memory", "sqlite", "redis", "postgres")


class OpenStore(Protocol):
    """Open a fresh, empty store. ``workdir`` is a private temporary directory."""

    def __call__(self, workdir: Path) -> AbstractAsyncContextManager[Store]: ...


@dataclass(frozen=True)
class Backend:
    name: str
    open: OpenStore
    #: ``None`` when usable here, else why not (the adapter or server is missing).
    unavailable: Callable[[], str | None] = lambda: None
    #: Anything started for the run (a server) is stopped by this at exit.
    cleanup: Callable[[], None] = lambda: None


def selected_names() -> list[str]:
    raw = os.environ.get("TOKENLIFE_STORES", "")
    names = [n.strip() for n in raw.split(",") if n.strip()] or list(KNOWN)
    unknown = set(names) - set(KNOWN)
    if unknown:
        raise ValueError(f"unknown store backends in TOKENLIFE_STORES: {sorted(unknown)}")
    return names


def services_required() -> bool:
    return os.environ.get("TOKENLIFE_REQUIRE_SERVICES") == "1"


def load(name: str) -> Backend | str:
    """The backend, or the reason it cannot be used here."""
    try:
        module = importlib.import_module(f"tests.stores.backend_{name}")
    except ImportError as exc:
        return f"{name} store not installed ({exc})"
    backend: Backend = module.BACKEND
    reason = backend.unavailable()
    return backend if reason is None else reason
