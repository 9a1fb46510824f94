"""``litestar tokens ...``: the ``tokenlife`` command's store operations on the app's own store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from litestar.cli.main import litestar_group

from tokenlife import KeySet, TokenAuthority

pytest.importorskip("tokenlife_sqlite")
pytest.importorskip("tokenlife_cli")
from tokenlife_sqlite import SQLiteStore

KEYS = KeySet.from_secret(b"litestar-cli-tests-secret-32-bytes!!")


def _seed(db: Path) -> list[str]:
    async def main() -> list[str]:
        async with SQLiteStore(db) as store:
            auth = TokenAuthority(store, keys=KEYS)
            return [(await auth.issue("alice")).session_id for _ in range(3)]

    return anyio.run(main)


def _tokens(db: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setenv("TOKENLIFE_TEST_DB", str(db))
    # Each real command is a process of its own, with a fresh app and store.
    monkeypatch.delitem(sys.modules, "tests.litestar.cli_app", raising=False)
    result = CliRunner().invoke(
        litestar_group, ["--app", "tests.litestar.cli_app:app", "tokens", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def _json(out: str) -> Any:
    return json.loads(out)


def test_sessions_revoke_and_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tokens.sqlite3"
    sids = _seed(db)
    code, out, err = _tokens(db, monkeypatch, "sessions", "alice", "--json")
    assert code == 0, err
    document = _json(out)
    assert document["store"] == "the app's SQLiteStore"
    assert [s["sid"] for s in document["sessions"]] == sids

    code, out, err = _tokens(db, monkeypatch, "revoke", "--session", sids[0], "--json")
    assert code == 0, err
    assert _json(out)["changed"] is True
    code, out, _ = _tokens(db, monkeypatch, "sessions", "alice", "--active", "--json")
    assert [s["sid"] for s in _json(out)["sessions"]] == sids[1:]

    code, out, _ = _tokens(db, monkeypatch, "revoke", "--subject", "alice")
    assert code == 0
    assert out.startswith("Revoked 2 open sessions of 'alice'")
    code, out, _ = _tokens(db, monkeypatch, "sessions", "alice", "--json")
    assert all(s["state"] == "revoked" for s in _json(out)["sessions"])

    code, out, _ = _tokens(db, monkeypatch, "purge", "--dry-run", "--json")
    assert (code, _json(out)["sessions"]) == (0, 0)
    code, out, _ = _tokens(db, monkeypatch, "purge", "--json")
    assert (code, _json(out)["sessions"]) == (0, 0)


def test_only_the_store_commands_and_no_store_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "tokens.sqlite3"
    _seed(db)
    code, out, _ = _tokens(db, monkeypatch, "--help")
    assert code == 0
    assert "litestar tokens" in out
    assert "sessions" in out and "keygen" not in out
    code, _, err = _tokens(db, monkeypatch, "sessions", "alice", "--store", "sqlite:///x.db")
    assert code == 2
    assert "--store" in err


def test_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tokens.sqlite3"
    _seed(db)
    code, out, err = _tokens(db, monkeypatch, "revoke")
    assert code == 2
    assert "one of the arguments --session --subject is required" in err
    code, out, err = _tokens(db, monkeypatch, "revoke", "--session", "nope")
    assert code == 1
    assert "Traceback" not in out + err
    assert err.strip().splitlines()[-1] == (
        "tokenlife: error: no session 'nope' in the app's SQLiteStore"
    )
