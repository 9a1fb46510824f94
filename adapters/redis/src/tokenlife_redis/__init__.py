"""A Redis store for tokenlife: one Lua script per lifecycle operation, Redis Cluster ready."""

from __future__ import annotations

from ._store import RedisStore

__all__ = ("RedisStore",)
