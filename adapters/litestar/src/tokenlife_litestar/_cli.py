"""``litestar tokens ...``: look after the app's own store from the Litestar CLI.

The commands use the authority the app was configured with, so they always
act on the store the running service uses. Errors are one line, never a
traceback (``click.ClickException``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import click

from tokenlife import StoreError, TokenAuthority

if TYPE_CHECKING:
    from litestar import Litestar

T = TypeVar("T")


def _authority(app: Litestar) -> TokenAuthority:
    from ._plugin import TokenLifePlugin

    plugin = app.plugins.get(TokenLifePlugin)
    return plugin.config.authority


def _run(app: Litestar, work: Callable[[TokenAuthority], Awaitable[T]]) -> T:
    """Open the app's store, do ``work``, close it; store failures are one line."""
    authority = _authority(app)

    async def main() -> T:
        async with authority.store:
            return await work(authority)

    try:
        return anyio.run(main)
    except StoreError as exc:
        raise click.ClickException(f"the store failed: {exc}") from None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def register(cli: click.Group) -> None:
    """Add the ``tokens`` group to Litestar's root CLI group."""

    @cli.group(name="tokens")
    def tokens() -> None:
        """Sessions, revocation and purge on the app's token store."""

    @tokens.command(name="sessions")
    @click.argument("subject")
    @click.option("--all", "include_revoked", is_flag=True, help="Include revoked/expired.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def sessions(app: Litestar, subject: str, include_revoked: bool, as_json: bool) -> None:
        """List SUBJECT's sessions, oldest first."""
        found = _run(app, lambda a: a.sessions(subject, include_revoked=include_revoked))
        rows: list[dict[str, Any]] = [
            {
                "sid": s.sid,
                "created_at": s.created_at,
                "refreshed_at": s.refreshed_at,
                "expires_at": s.expires_at,
                "revoked_at": s.revoked_at,
                "revoked_reason": s.revoked_reason,
            }
            for s in found
        ]
        if as_json:
            click.echo(json.dumps({"subject": subject, "sessions": rows}))
            return
        if not rows:
            click.echo(f"no sessions for {subject!r}")
        for row in rows:
            revoked = f"revoked {_when(row['revoked_at'])} ({row['revoked_reason']})"
            click.echo(
                f"{row['sid']}  created {_when(row['created_at'])}  "
                f"refreshed {_when(row['refreshed_at'])}  expires {_when(row['expires_at'])}  "
                + (revoked if row["revoked_at"] is not None else "open")
            )

    @tokens.command(name="revoke")
    @click.option("--session", "sid", help="Revoke one session.")
    @click.option("--subject", help="Revoke every session of a subject (log out everywhere).")
    @click.option("--reason", default="revoked_by_operator", show_default=True)
    def revoke(app: Litestar, sid: str | None, subject: str | None, reason: str) -> None:
        """Revoke a session or every session of a subject."""
        if (sid is None) == (subject is None):
            raise click.UsageError("give exactly one of --session or --subject")
        if sid is not None:
            known = _run(app, lambda a: a.revoke_session(sid, reason=reason))
            if not known:
                raise click.ClickException(f"no session {sid!r}")
            click.echo(f"revoked session {sid}")
        else:
            assert subject is not None
            count = _run(app, lambda a: a.revoke_subject(subject, reason=reason))
            click.echo(f"revoked {count} open session(s) of {subject!r}")

    @tokens.command(name="purge")
    @click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 100_000))
    def purge(app: Litestar, batch: int) -> None:
        """Delete sessions past their absolute expiry, in batches."""
        removed = _run(app, lambda a: a.purge(batch=batch))
        click.echo(f"purged {removed} expired session(s)")


__all__ = ("register",)
