"""One-time claims (``Store.claim_once``): one upsert statement, one round trip.

The row is overwritten only when its claim lapsed by the caller's ``now``;
``RETURNING`` then yields a row for the winner and nothing for a replay. Two
servers racing on one key serialise on its primary key: the loser's upsert
waits for the winner's commit and then finds a claim that holds.
"""

from __future__ import annotations

from typing import Final

#: Version 5's addition: a table of its own, so nothing the lifecycle writes moves.
V4_TO_V5: Final = (
    "CREATE TABLE claimed_keys (\n"
    "    key            text PRIMARY KEY,\n"
    "    until          double precision NOT NULL\n"
    ");\n"
    "CREATE INDEX claimed_keys_by_until ON claimed_keys (until);"
)


def claim_statement(schema: str) -> str:
    return (
        f"INSERT INTO {schema}.claimed_keys AS c (key, until) VALUES ($1, $2) "  # noqa: S608
        "ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE c.until <= $3 "
        "RETURNING true"
    )


def purge_statement(schema: str) -> str:
    return f"DELETE FROM {schema}.claimed_keys WHERE until <= $1"  # noqa: S608


__all__ = ("V4_TO_V5", "claim_statement", "purge_statement")
