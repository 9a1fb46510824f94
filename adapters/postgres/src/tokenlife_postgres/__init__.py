"""A PostgreSQL store for tokenlife on asyncpg: one locked transaction per rotation."""

from __future__ import annotations

from ._store import PURGE_CHUNK, PostgresStore
from ._support import PurgeCounts

__all__ = ("PURGE_CHUNK", "PostgresStore", "PurgeCounts")
