"""``litestar tokens ...`` acts on the app's own store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from litestar.cli.main import litestar_group

from tokenlife import KeySet, TokenAuthority

pytest.importorskip("tokenlife_sqlite")
from tokenlife_sqlite import SQLiteStore

KEYS = KeySet.from_secret(b"litestar-cli-tests-secret-32-bytes!!")


def _seed(db: Path) -> list[str]:
    async def main() -> list[str]:
        async with SQLiteStore(db) as store:
            auth = TokenAuthority(store, keys=KEYS)
            return [(await auth.issue("alice")).session_id for _ in range(3)]

    return anyio.run(main)


def _tokens(db: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("TOKENLIFE_TEST_DB", str(db))
    # Each real command is a process of its own, with a fresh app and store.
    monkeypatch.delitem(sys.modules, "tests.litestar.cli_app", raising=False)
    result = CliRunner().invoke(
        litestar_group, ["--app", "tests.litestar.cli_app:app", "tokens", *args]
    )
    return result.exit_code, result.output


def _last_line(output: str) -> str:
    """The command's own line; security events may be logged above it."""
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def test_sessions_revoke_and_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tokens.sqlite3"
    sids = _seed(db)
    code, out = _tokens(db, monkeypatch, "sessions", "alice", "--json")
    assert code == 0, out
    assert [s["sid"] for s in json.loads(_last_line(out))["sessions"]] == sids

    code, out = _tokens(db, monkeypatch, "revoke", "--session", sids[0])
    assert (code, _last_line(out)) == (0, f"revoked session {sids[0]}")
    code, out = _tokens(db, monkeypatch, "sessions", "alice", "--json")
    assert [s["sid"] for s in json.loads(_last_line(out))["sessions"]] == sids[1:]

    code, out = _tokens(db, monkeypatch, "revoke", "--subject", "alice")
    assert (code, _last_line(out)) == (0, "revoked 2 open session(s) of 'alice'")
    code, out = _tokens(db, monkeypatch, "sessions", "alice", "--all", "--json")
    assert all(s["revoked_at"] is not None for s in json.loads(_last_line(out))["sessions"])

    code, out = _tokens(db, monkeypatch, "purge")
    assert (code, _last_line(out)) == (0, "purged 0 expired session(s)")


def test_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tokens.sqlite3"
    _seed(db)
    code, out = _tokens(db, monkeypatch, "revoke")
    assert code == 2
    assert "exactly one of --session or --subject" in out
    code, out = _tokens(db, monkeypatch, "revoke", "--session", "nope")
    assert code == 1
    assert "Traceback" not in out
    assert "no session 'nope'" in out
