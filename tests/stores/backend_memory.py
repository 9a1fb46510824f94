from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.backends import Backend
from tokenlife.store import Store
from tokenlife_memory import MemoryStore


@asynccontextmanager
async def _open(workdir: Path) -> AsyncIterator[Store]:
    async with MemoryStore() as store:
        yield store


BACKEND = Backend(name="memory", open=_open)
