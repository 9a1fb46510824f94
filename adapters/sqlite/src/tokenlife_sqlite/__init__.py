"""The embedded default tokenlife store: one SQLite file; durable, safe across processes, fast."""

from __future__ import annotations

from ._schema import SCHEMA_VERSION
from ._store import DEFAULT_CHECKPOINT_INTERVAL, DEFAULT_STALENESS, SQLiteStore

__all__ = ("DEFAULT_CHECKPOINT_INTERVAL", "DEFAULT_STALENESS", "SCHEMA_VERSION", "SQLiteStore")
