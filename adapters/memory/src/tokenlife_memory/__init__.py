"""An in-memory tokenlife store: exact, fast, and gone when the process ends."""

from __future__ import annotations

from ._store import MemoryStore

__all__ = ("MemoryStore",)
