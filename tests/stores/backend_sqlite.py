"""The SQLite store for the parametrized suites: a new file for every open."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.backends import Backend
from tokenlife.store import Store
from tokenlife_sqlite import SQLiteStore

_files = itertools.count(1)


@asynccontextmanager
async def _open(workdir: Path) -> AsyncIterator[Store]:
    # Fresh and empty each time, even when one test opens several stores.
    async with SQLiteStore(workdir / f"tokenlife-{next(_files)}.db") as store:
        yield store


BACKEND = Backend(name="sqlite", open=_open)
