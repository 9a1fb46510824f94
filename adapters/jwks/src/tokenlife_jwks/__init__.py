"""Resource servers: an issuer's JWKS fetched with httpx, judged by the core."""

from __future__ import annotations

from ._source import RemoteKeySet
from ._verifier import RemoteVerifier

__all__ = ("RemoteKeySet", "RemoteVerifier")
