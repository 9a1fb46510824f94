"""The failure contract: one line on stderr, exit 2 for usage and 1 at run time, no traceback.

Also: ``--help`` for every subcommand, and the installed console script.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests import redis_servers
from tests.cli import _tokens as tk
from tests.cli._cli import tokenlife
from tests.cli._targets import Target, sqlite_target

COMMANDS = ("keygen", "inspect", "sessions", "revoke", "purge")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_for_every_subcommand(command: str) -> None:
    ran = tokenlife(command, "--help")
    assert ran.code == 0 and ran.err == ""
    assert ran.out.startswith(f"usage: tokenlife {command} ")
    assert "--json" in ran.out and "exit codes:" in ran.out and "examples:" in ran.out


def test_top_level_help_lists_the_commands() -> None:
    ran = tokenlife("--help")
    assert ran.code == 0
    for command in COMMANDS:
        assert f"    {command} " in ran.out


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("tokenlife")
    if not script.exists():
        pytest.skip("no console script next to this interpreter (not an installed environment)")
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "tokenlife 0.1.0\n")


USAGE_ERRORS = {
    "no command": ((), "the following arguments are required: COMMAND"),
    "unknown command": (("frobnicate",), "invalid choice: 'frobnicate'"),
    "inspect without a token": (("inspect",), "the following arguments are required: TOKEN"),
    "sessions without --store": (("sessions", "alice"), "required: --store"),
    "revoke without a target": (("revoke", "--store", "sqlite:///x.db"), "one of the arguments"),
    "revoke with two targets": (
        ("revoke", "--session", "s", "--subject", "a", "--store", "sqlite:///x.db"),
        "not allowed with argument",
    ),
    "bad algorithm": (("keygen", "--alg", "HS1"), "invalid choice: 'HS1'"),
    "bad batch": (("purge", "--store", "sqlite:///x.db", "--batch", "0"), "between 1 and"),
    "leeway too large": (("inspect", "x.y.z", "--leeway", "301"), "at most 300 s"),
    "bad duration": (("purge", "--store", "sqlite:///x", "--session-ttl", "soon"), "duration"),
    "unknown store scheme": (
        ("sessions", "alice", "--store", "mysql://db/tokens"),
        "unknown store scheme 'mysql'",
    ),
    "memory store": (("purge", "--store", "memory://"), "lives and dies inside one process"),
    "not a url": (("sessions", "alice", "--store", "tokens.db"), "is not a URL"),
    "sqlite with a host": (("sessions", "a", "--store", "sqlite://host/x.db"), "has no host"),
    "sqlite without a path": (("sessions", "a", "--store", "sqlite:///"), "give the path"),
    "redis port": (("sessions", "a", "--store", "redis://localhost:sixty/0"), "port"),
    "redis database": (("sessions", "a", "--store", "redis://localhost/zero"), "a number"),
    "redis password stays hidden": (
        ("sessions", "a", "--store", "redis://:hunter2@localhost/zero"),
        "redis://:***@localhost/zero",
    ),
    "postgres port": (("sessions", "a", "--store", "postgresql://localhost:sixty/db"), "port"),
    "postgres without a host": (("sessions", "a", "--store", "postgresql:///db"), "needs a host"),
    "postgres schema twice": (
        ("sessions", "a", "--store", "postgresql://:hunter2@h/db?schema=a&schema=b"),
        "postgresql://:***@h/db",
    ),
    "postgres bad schema": (
        ("sessions", "a", "--store", "postgres://h/db?schema=Bad-Name"),
        "a schema name is",
    ),
    "two key sources": (
        ("inspect", "x.y.z", "--key", "k.pem", "--secret-env", "S"),
        "not allowed with argument",
    ),
    "alg without a key": (("inspect", "x.y.z", "--alg", "HS256"), "need --key or --secret-env"),
    "bad TOKENLIFE_NOW": (("inspect", "x.y.z"), "TOKENLIFE_NOW must be"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS, ids=str)
def test_usage_errors_exit_2_in_one_line(case: str) -> None:
    args, expected = USAGE_ERRORS[case]
    env = {"TOKENLIFE_NOW": "whenever"} if case == "bad TOKENLIFE_NOW" else None
    ran = tokenlife(*args, env=env, now=None if env else 1.0)
    line = ran.one_line_error()
    assert ran.code == 2, line
    assert expected in line
    assert "hunter2" not in line


def test_unknown_store_scheme_wins_over_runtime_checks() -> None:
    ran = tokenlife("revoke", "--subject", "a", "--store", "mysql://x")
    assert ran.code == 2 and "unknown store scheme 'mysql'" in ran.one_line_error()


def _runtime_error(*args: str | Path, env: dict[str, str] | None = None) -> str:
    ran = tokenlife(*args, env=env)
    line = ran.one_line_error()
    assert ran.code == 1, line
    return line


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    for args in (
        ("sessions", "alice"),
        ("revoke", "--subject", "alice"),
        ("purge", "--dry-run"),
    ):
        line = _runtime_error(*args, "--store", f"sqlite:///{path}")
        assert line == f"tokenlife: error: no SQLite store at {path}: the file does not exist"
    assert not path.exists()


def test_sqlite_path_that_is_a_directory(tmp_path: Path) -> None:
    line = _runtime_error("sessions", "a", "--store", f"sqlite:///{tmp_path}")
    assert line == f"tokenlife: error: no SQLite store at {tmp_path}: not a regular file"


def test_someone_elses_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = path.read_bytes()
    line = _runtime_error("sessions", "alice", "--store", f"sqlite:///{path}")
    assert line.startswith(f"tokenlife: error: store sqlite:///{path}: ")
    assert "another program's SQLite database" in line
    dry = _runtime_error("purge", "--dry-run", "--store", f"sqlite:///{path}")
    assert "not a tokenlife" in dry or "another program" in dry
    assert path.read_bytes() == before


def test_unreachable_redis() -> None:
    port = redis_servers.free_port()  # nothing listens there
    url = f"redis://127.0.0.1:{port}/0"
    for args in (("sessions", "alice"), ("revoke", "--session", "s"), ("purge", "--dry-run")):
        line = _runtime_error(*args, "--store", url)
        assert line.startswith(f"tokenlife: error: store {url}: redis unavailable: ")
    tls = f"rediss://:secret@127.0.0.1:{port}/1"  # TLS URLs are accepted, and redacted
    line = _runtime_error("revoke", "--subject", "alice", "--store", tls)
    assert f"store rediss://:***@127.0.0.1:{port}/1: redis unavailable" in line
    assert "secret" not in line


def test_missing_and_unusable_key_files(tmp_path: Path) -> None:
    token = tk.mint()
    missing = tmp_path / "nope.pem"
    assert _runtime_error("inspect", token, "--key", missing).endswith(
        f"--key {missing}: no such file"
    )
    garbage = tk.write(tmp_path / "garbage.txt", "hello")
    assert "neither a PEM key nor a JWK/JWKS" in _runtime_error("inspect", token, "--key", garbage)
    bad_json = tk.write(tmp_path / "bad.json", "{not json")
    assert "not valid JSON" in _runtime_error("inspect", token, "--key", bad_json)
    no_alg = tk.write(tmp_path / "noalg.json", {"kty": "oct", "k": "c2VjcmV0"})
    assert "needs an 'alg'" in _runtime_error("inspect", token, "--key", no_alg)
    weak = tk.write(tmp_path / "weak.json", {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"})
    assert "at least 32 bytes" in _runtime_error("inspect", token, "--key", weak)


def test_encrypted_private_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(tk.ec_private_pem(), password=None)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pass"),
    )
    path = tk.write(tmp_path / "enc.pem", encrypted)
    assert "encrypted" in _runtime_error("inspect", tk.mint(), "--key", path)


def test_secret_env_problems() -> None:
    token = tk.mint()
    assert "not set or empty" in _runtime_error("inspect", token, "--secret-env", "NOT_SET_X")
    short = _runtime_error("inspect", token, "--secret-env", "S", env={"S": "short"})
    assert "at least 32 bytes" in short
    bad = _runtime_error(
        "inspect", token, "--secret-env", "S", "--secret-encoding", "base64url", env={"S": "!!"}
    )
    assert "not valid base64url" in bad


def test_empty_stdin() -> None:
    ran = tokenlife("inspect", "-", stdin="")
    assert ran.code == 1 and "no token given" in ran.one_line_error()


def test_keygen_out_directory_missing(tmp_path: Path) -> None:
    line = _runtime_error("keygen", "--out", tmp_path / "nope")
    assert "not an existing directory" in line


def test_redis_url_without_the_redis_extra() -> None:
    """Without tokenlife-redis installed, the error says which package to install."""
    code = (
        "import sys; sys.modules['tokenlife_redis'] = None; "  # as if not installed
        "from tokenlife_cli import main; sys.exit(main())"
    )
    args = ["sessions", "alice", "--store", "redis://127.0.0.1:6379/0"]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "tokenlife: error: redis:// stores need the tokenlife-redis package: "
        "pip install 'tokenlife-cli[redis]'\n"
    )


def test_sqlite_urls_with_three_slashes_are_relative_and_four_absolute(tmp_path: Path) -> None:
    target = sqlite_target(tmp_path / "tokens.db")
    asyncio.run(_create(target))
    absolute = target.url
    assert absolute.startswith("sqlite:////")
    assert tokenlife("sessions", "alice", "--store", absolute).code == 0
    relative = tokenlife("sessions", "alice", "--store", "sqlite:///tokens.db", cwd=tmp_path)
    assert relative.code == 0, relative.err
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = tokenlife("sessions", "alice", "--store", "sqlite:///tokens.db", cwd=elsewhere)
    assert missing.code == 1
    help_text = " ".join(tokenlife("sessions", "--help").out.split())
    assert "relative to the working directory" in help_text
    assert "sqlite:////abs/path.db" in help_text


async def _create(target: Target) -> None:
    async with target.open():
        pass
