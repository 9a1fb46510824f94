"""One-time claims (``Store.claim_once``): one upsert, in the shared write lock.

The upsert overwrites a row only when its claim has lapsed by the caller's
``now``, so ``rowcount`` says who won: 1 for a new or lapsed key, 0 while an
earlier claim holds. Writes go through the batch's ``BEGIN IMMEDIATE``, the
lock every process on the file shares, so a proof replayed to two processes
is accepted by one. Claims touch no cache: nothing else reads them.
"""

from __future__ import annotations

from typing import Final

from ._batch import Tx

CLAIM: Final = (
    "INSERT INTO claimed_keys (key, until) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE claimed_keys.until <= ?"
)
PURGE_CLAIMS: Final = "DELETE FROM claimed_keys WHERE until <= ?"


def claim_once(tx: Tx, key: str, until: float, now: float) -> bool:
    return bool(tx.conn.execute(CLAIM, (key, until, now)).rowcount == 1)


def purge_claims(tx: Tx, before: float) -> int:
    return int(tx.conn.execute(PURGE_CLAIMS, (before,)).rowcount)


__all__ = ("CLAIM", "PURGE_CLAIMS", "claim_once", "purge_claims")
