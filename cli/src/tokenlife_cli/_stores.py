"""``--store URL``: which store, how to open it, and how to name it in messages.

``sqlite:///relative/file`` and ``sqlite:////absolute/file`` (SQLAlchemy's
spelling) open a :class:`tokenlife_sqlite.SQLiteStore`; ``redis://`` and
``rediss://`` URLs go to :meth:`tokenlife_redis.RedisStore.from_url`, less one
query option of ours, ``prefix`` (the store's key prefix, ``tokenlife:`` by
default). ``postgresql://`` and ``postgres://`` URLs open a
:class:`tokenlife_postgres.PostgresStore`, less one query option of ours,
``schema`` (the store's schema, ``tokenlife`` by default). Unless the URL says
otherwise, connecting gives up after 5 seconds: a person is waiting.

A SQLite file must already exist: an administration command that silently
created an empty store at a mistyped path would report "no sessions" and be
believed.

An application that embeds the commands (``main(argv, store=...)``, as the
Litestar plugin's ``litestar tokens`` group does) hands over its own store
instead: :func:`given` names it, and :func:`open_store` opens that very one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

from tokenlife import ConfigurationError, Store

from ._errors import CliError, UsageError

SCHEMES: Final = ("sqlite", "redis", "rediss", "postgresql", "postgres")
EXAMPLES: Final = (
    "sqlite:///relative.db, sqlite:////abs/path.db, redis://host:6379/0 "
    "or postgresql://user@host/db"
)


@dataclass(frozen=True)
class StoreURL:
    """A parsed ``--store``: the kind, what to open, and a password-free name for messages."""

    kind: Literal["sqlite", "redis", "postgres", "other"]
    url: str
    display: str
    path: Path | None = None
    #: The Redis key prefix (``?prefix=``), the PostgreSQL schema
    #: (``?schema=``), or ``None`` for the store's default.
    prefix: str | None = None
    #: An application's own store, opened as it is rather than from ``url``.
    store: Store | None = None


def given(store: Store) -> StoreURL:
    """An application's own store; its kind (for ``purge --dry-run``) read from its type."""
    from tokenlife_sqlite import SQLiteStore

    display = f"the app's {type(store).__name__}"
    if isinstance(store, SQLiteStore):
        path = Path(store.path)
        return StoreURL(kind="sqlite", url="", display=display, path=path, store=store)
    try:
        from tokenlife_redis import RedisStore
    except ImportError:
        pass
    else:
        if isinstance(store, RedisStore):
            return StoreURL(kind="redis", url="", display=display, store=store)
    return StoreURL(kind="other", url="", display=display, store=store)


def parse(raw: str) -> StoreURL:
    """Check ``--store`` before anything is opened; every problem is a usage error."""
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise UsageError(f"--store {raw!r} is not a URL; use {EXAMPLES}")
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        hint = " (a memory store lives and dies inside one process)" if scheme == "memory" else ""
        raise UsageError(f"unknown store scheme {scheme!r} in --store{hint}; use {EXAMPLES}")
    if scheme == "sqlite":
        return _sqlite(raw, rest)
    if scheme.startswith("postgres"):
        return _postgres(raw)
    return _redis(raw)


def _sqlite(raw: str, rest: str) -> StoreURL:
    if not rest.startswith("/"):
        raise UsageError(
            f"--store {raw!r}: a SQLite URL has no host; use sqlite:///relative.db "
            "or sqlite:////absolute/path.db"
        )
    path_text = unquote(rest[1:].partition("?")[0])
    if "?" in rest:
        raise UsageError(f"--store {raw!r}: SQLite URLs take no query options")
    if not path_text or path_text == ":memory:":
        raise UsageError(f"--store {raw!r}: give the path of the SQLite file")
    path = Path(path_text)
    return StoreURL(kind="sqlite", url=raw, display=f"sqlite:///{path_text}", path=path)


def _redis(raw: str) -> StoreURL:
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise UsageError(f"--store {_redact(parts)}: the port is not a number") from None
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise UsageError(f"--store {_redact(parts)}: the database must be a number (/0)")
    if not parts.hostname:
        raise UsageError(f"--store {_redact(parts)}: a Redis URL needs a host")
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    if len(prefixes) > 1 or (prefixes and not prefixes[0]):
        raise UsageError(f"--store {_redact(parts)}: give ?prefix= once, not empty")
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    url = parts._replace(query=rest).geturl()
    prefix = prefixes[0] if prefixes else None
    return StoreURL(kind="redis", url=url, display=_redact(parts), prefix=prefix)


def _postgres(raw: str) -> StoreURL:
    parts = urlsplit(raw)
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError:
        raise UsageError(f"--store {_redact(parts)}: the port is not a number") from None
    if not parts.hostname:
        raise UsageError(f"--store {_redact(parts)}: a PostgreSQL URL needs a host")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "schema"]
    if len(schemas) > 1 or (schemas and not schemas[0]):
        raise UsageError(f"--store {_redact(parts)}: give ?schema= once, not empty")
    rest = urlencode([(name, value) for name, value in query if name != "schema"])
    url = parts._replace(query=rest).geturl()
    schema = schemas[0] if schemas else None
    return StoreURL(kind="postgres", url=url, display=_redact(parts), prefix=schema)


def _redact(parts: SplitResult) -> str:
    """The URL with any password replaced, fit for an error message or a log."""
    if parts.password is None:
        return parts.geturl()
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


@asynccontextmanager
async def open_store(spec: StoreURL) -> AsyncIterator[Store]:
    """The opened store; closed on the way out, whatever happens inside."""
    if spec.store is not None:
        async with spec.store as given_store:
            yield given_store
        return
    if spec.kind == "sqlite":
        assert spec.path is not None
        if not spec.path.is_file():
            problem = "not a regular file" if spec.path.exists() else "the file does not exist"
            raise CliError(f"no SQLite store at {spec.path}: {problem}")
        from tokenlife_sqlite import SQLiteStore

        try:
            sqlite_store = SQLiteStore(spec.path)
        except ConfigurationError as exc:
            raise UsageError(f"--store {spec.display}: {exc.message}") from None
        async with sqlite_store as opened:
            yield opened
        return
    if spec.kind == "postgres":
        async with _postgres_store(spec) as opened:
            yield opened
        return
    try:
        from tokenlife_redis import RedisStore
    except ImportError:
        raise CliError(
            "redis:// stores need the tokenlife-redis package: pip install 'tokenlife-cli[redis]'"
        ) from None
    options: dict[str, Any] = {"socket_connect_timeout": 5.0}
    if spec.prefix is not None:
        options["prefix"] = spec.prefix
    async with RedisStore.from_url(spec.url, **options) as redis_store:
        yield redis_store


@asynccontextmanager
async def _postgres_store(spec: StoreURL) -> AsyncIterator[Store]:
    try:
        from tokenlife_postgres import PostgresStore
    except ImportError:
        raise CliError(
            "postgresql:// stores need the tokenlife-postgres package: "
            "pip install 'tokenlife-cli[postgres]'"
        ) from None
    # ``timeout`` (connecting) goes through to asyncpg; a person is waiting.
    options: dict[str, Any] = {"timeout": 5.0, "min_size": 1, "max_size": 4}
    if spec.prefix is not None:
        options["schema"] = spec.prefix
    try:
        store = PostgresStore(spec.url, **options)
    except ConfigurationError as exc:
        raise UsageError(f"--store {spec.display}: {exc.message}") from None
    async with store as opened:
        yield opened


__all__ = ("EXAMPLES", "SCHEMES", "StoreURL", "given", "open_store", "parse")
