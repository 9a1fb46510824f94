"""The database layout: schema versions, migrations, and the checks made before touching one.

Everything lives in one PostgreSQL schema (namespace) of its own, ``tokenlife``
by default. Its ``tokenlife_meta`` table names the application and the layout
version. Opening checks before it writes anything: a namespace holding tables
but no ``tokenlife_meta`` (someone else's), or a version newer than this code
knows, is refused with :class:`StoreError` and left exactly as it was.

Migrations run in one transaction under an advisory lock (PostgreSQL DDL is
transactional): a database is either fully migrated or not at all, and two
processes opening an old one at once migrate it once.
"""

from __future__ import annotations

import re
from typing import Final

import asyncpg

from tokenlife import ConfigurationError, StoreError

from ._claims import V4_TO_V5
from ._rows import qualify_tables

APPLICATION: Final = "tokenlife"
#: The advisory lock key migrations hold (the ASCII of "tLif").
MIGRATION_LOCK: Final = 0x744C6966

#: Version 1. Times are double precision: an IEEE double goes in and comes out
#: unchanged, infinities included. Ids and subjects are text; the claims and
#: metadata dicts are msgspec JSON in bytea (NULL for the common empty dict).
#: A refresh record's state is 0 (ACTIVE) or 1 (ROTATED); the partial unique
#: index of version 3 makes "one ACTIVE record per session" a database guarantee.
#: ``tokenlife_lock_snapshot`` locks the session row, then reads what
#: ``decide_refresh`` needs: a VOLATILE function's second statement takes a
#: fresh snapshot, so it sees whatever the lock holder committed before.
#: Version 1, kept as shipped so that the v1 -> v2 path stays tested.
V1: Final = """
CREATE TABLE tokenlife_meta (
    application    text PRIMARY KEY,
    version        integer NOT NULL
);
CREATE TABLE sessions (
    sid            text PRIMARY KEY,
    subject        text NOT NULL,
    created_at     double precision NOT NULL,
    expires_at     double precision NOT NULL,
    current_jti    text NOT NULL,
    refreshed_at   double precision NOT NULL,
    access_floor   double precision NOT NULL DEFAULT 0,
    revoked_at     double precision,
    revoked_reason text,
    access_claims  bytea,
    metadata       bytea
);
CREATE INDEX sessions_by_subject ON sessions (subject, created_at, sid);
CREATE INDEX sessions_by_expiry ON sessions (expires_at, sid);
CREATE TABLE refresh (
    jti            text PRIMARY KEY,
    sid            text NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    subject        text NOT NULL,
    issued_at      double precision NOT NULL,
    expires_at     double precision NOT NULL,
    parent_jti     text,
    state          smallint NOT NULL CHECK (state IN (0, 1)),
    rotated_at     double precision,
    successor_jti  text
);
CREATE INDEX refresh_by_sid ON refresh (sid);
CREATE TABLE denials (
    jti            text PRIMARY KEY,
    until          double precision NOT NULL
);
CREATE INDEX denials_by_until ON denials (until);
CREATE TABLE watermarks (
    subject        text PRIMARY KEY,
    revoked_before double precision NOT NULL
);
CREATE FUNCTION tokenlife_lock_snapshot(q_jti text, q_sid text, q_subject text)
RETURNS TABLE (
    r_jti text, r_sid text, r_subject text, r_issued_at double precision,
    r_expires_at double precision, r_parent_jti text, r_state smallint,
    r_rotated_at double precision, r_successor_jti text,
    s_sid text, s_subject text, s_created_at double precision, s_expires_at double precision,
    s_current_jti text, s_refreshed_at double precision, s_access_floor double precision,
    s_revoked_at double precision, s_revoked_reason text, s_access_claims bytea,
    s_metadata bytea,
    n_jti text, n_sid text, n_subject text, n_issued_at double precision,
    n_expires_at double precision, n_parent_jti text, n_state smallint,
    n_rotated_at double precision, n_successor_jti text,
    revoked_before double precision
)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    PERFORM 1 FROM sessions AS l WHERE l.sid = q_sid FOR UPDATE;
    RETURN QUERY
    SELECT r.jti, r.sid, r.subject, r.issued_at, r.expires_at, r.parent_jti, r.state,
           r.rotated_at, r.successor_jti,
           s.sid, s.subject, s.created_at, s.expires_at, s.current_jti, s.refreshed_at,
           s.access_floor, s.revoked_at, s.revoked_reason, s.access_claims, s.metadata,
           n.jti, n.sid, n.subject, n.issued_at, n.expires_at, n.parent_jti, n.state,
           n.rotated_at, n.successor_jti,
           (SELECT w.revoked_before FROM watermarks AS w WHERE w.subject = q_subject)
    FROM (SELECT 1) AS one
    LEFT JOIN refresh AS r ON r.jti = q_jti AND r.sid = q_sid
    LEFT JOIN sessions AS s ON s.sid = r.sid
    LEFT JOIN refresh AS n ON n.jti = r.successor_jti AND n.sid = r.sid;
END
$fn$;
"""

#: Version 2: sessions count their rotations (``generation``), which access
#: tokens carry so that an older generation is superseded by identity rather
#: than by time. Existing sessions start at 0; the snapshot function returns
#: the new column (its row type changes, so it is dropped and made again).
V1_TO_V2: Final = (
    "ALTER TABLE sessions ADD COLUMN generation bigint NOT NULL DEFAULT 0;\n"
    "DROP FUNCTION tokenlife_lock_snapshot(text, text, text);\n"
    + V1[V1.index("CREATE FUNCTION") :]
    .replace("    s_metadata bytea,\n", "    s_metadata bytea, s_generation bigint,\n")
    .replace("s.access_claims, s.metadata,\n", "s.access_claims, s.metadata, s.generation,\n")
)

#: Version 3: at most one ACTIVE refresh record per session, enforced by the
#: database whatever the code above it does (a partial unique index). A
#: rotation's single statement turns the parent ROTATED before its successor
#: goes in, so the index never sees two.
V2_TO_V3: Final = "CREATE UNIQUE INDEX refresh_one_active ON refresh (sid) WHERE state = 0;"

#: Version 4: the snapshot function names its tables in its own schema (the
#: ``{schema}`` placeholder is filled in when migrating), so it reads the right
#: tables whatever the calling connection's search_path is. Qualified names
#: rather than a ``SET search_path`` clause: that clause costs a settings
#: save and restore on every call.
V3_TO_V4: Final = qualify_tables(
    V1_TO_V2[V1_TO_V2.index("CREATE FUNCTION") :].replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
    ),
    "{schema}",
)

#: Version 5: one-time claims (``Store.claim_once``, DPoP proof ids), see ``_claims``.
#: ``MIGRATIONS[v]`` takes a database from version ``v`` to ``v + 1``.
MIGRATIONS: Final[dict[int, str]] = {1: V1_TO_V2, 2: V2_TO_V3, 3: V3_TO_V4, 4: V4_TO_V5}
VERSION: Final = 1 + len(MIGRATIONS)

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def check_schema_name(name: str) -> str:
    """A namespace name the store may quote into DDL (lower case, no quoting games)."""
    if not _NAME.fullmatch(name):
        raise ConfigurationError(
            f"a schema name is 1-63 lower-case letters, digits or '_': {name!r}"
        )
    return name


async def _inspect(conn: asyncpg.Connection, schema: str) -> int | None:
    """The stored version; 0 for a missing or empty namespace. Writes nothing."""
    tables = await conn.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        schema,
    )
    names = {row[0] for row in tables}
    if not names:
        return 0
    if "tokenlife_meta" not in names:
        raise StoreError(
            f"schema {schema!r} holds tables that are not tokenlife's; refusing to touch it"
        )
    row = await conn.fetchrow(
        f"SELECT version FROM {schema}.tokenlife_meta WHERE application = $1",  # noqa: S608
        APPLICATION,
    )
    if row is None:
        raise StoreError(f"schema {schema!r} is not a tokenlife store; refusing to touch it")
    version: int = row[0]
    if version > VERSION:
        raise StoreError(
            f"schema {schema!r} has layout version {version}; this tokenlife-postgres "
            f"knows up to {VERSION}: upgrade it"
        )
    if version < 1:
        raise StoreError(f"schema {schema!r} has an invalid layout version {version}")
    return version


async def prepare(conn: asyncpg.Connection, schema: str) -> None:
    """Create or migrate the namespace, or refuse it untouched."""
    if await _inspect(conn, schema) == VERSION:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        version = await _inspect(conn, schema)  # again, under the lock
        if version == VERSION:
            return
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(f"SET LOCAL search_path = {schema}")
        if version == 0:
            await conn.execute(V1)
            version = 1
            await conn.execute(
                "INSERT INTO tokenlife_meta (application, version) VALUES ($1, $2)",
                APPLICATION,
                version,
            )
        while version is not None and version < VERSION:
            await conn.execute(MIGRATIONS[version].replace("{schema}", schema))
            version += 1
        await conn.execute(
            "UPDATE tokenlife_meta SET version = $2 WHERE application = $1", APPLICATION, version
        )


__all__ = ("APPLICATION", "MIGRATIONS", "VERSION", "check_schema_name", "prepare")
