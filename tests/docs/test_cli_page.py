"""Every ``$ tokenlife …`` line of the command-line page runs, in-process, against real files."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
from pathlib import Path

import pytest

from tests.docs.conftest import DOCS, ROOT, SECRET
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife_sqlite import SQLiteStore

try:
    import tokenlife_cli
except ImportError:  # `nox -s docs` installs the library and its stores, not the command
    sys.path.insert(0, str(ROOT / "cli" / "src"))
    import tokenlife_cli

COMMAND = re.compile(r"^\$ ((?:tokenlife|mkdir) .+)$", re.MULTILINE)


def documented_commands() -> list[str]:
    return COMMAND.findall((DOCS / "cli.md").read_text(encoding="utf-8"))


async def _a_session(path: Path) -> tuple[str, str]:
    """A store with one session of alice: its access token and session id."""
    async with SQLiteStore(path) as store:
        auth = TokenAuthority(
            store,
            keys=KeySet.from_secret(SECRET),
            policy=Policy(issuer="https://api.example", audience="api"),
        )
        pair = await auth.issue("alice", metadata={"user_agent": "phone"})
        await auth.issue("alice")
        return pair.access_token, pair.session_id


def test_the_page_shows_every_subcommand() -> None:
    used = {c.split()[1] for c in documented_commands() if c.startswith("tokenlife ")}
    assert used == {"keygen", "inspect", "sessions", "revoke", "purge"}


def test_every_documented_command_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    token, sid = asyncio.run(_a_session(tmp_path / "tokens.sqlite3"))
    env = {"TOKEN": token, "SID": sid}
    monkeypatch.setenv("TOKENLIFE_SECRET", SECRET)
    for command in documented_commands():
        program, *argv = shlex.split(command)
        for name, value in env.items():
            argv = [arg.replace(f"${name}", value) for arg in argv]
        if program == "mkdir":
            for directory in argv:
                (tmp_path / directory).mkdir()
            continue
        assert tokenlife_cli.main(argv) == 0, f"{command}\n{capsys.readouterr()}"
    output = capsys.readouterr().out
    assert "lost phone" in output
    assert (tmp_path / "keys").is_dir()


def test_inspect_exits_3_for_an_invalid_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKENLIFE_SECRET", SECRET)
    token = TokenAuthority.__name__  # not a token at all
    assert tokenlife_cli.main(["inspect", token, "--secret-env", "TOKENLIFE_SECRET"]) == 3
    capsys.readouterr()
