"""``tokenlife purge``: the dry run counts exactly what the real purge then removes.

Seeded sessions last one hour (``_seed.POLICY``); the command runs two hours
later, so they are past their absolute expiry and the default 300 s leeway.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from tests.cli._cli import T0, tokenlife
from tests.cli._seed import Rig, stored_sessions, with_authority
from tests.cli._targets import Target

LATER = T0 + 7200
PURGE_ARGS = ("--session-ttl", "1h")


def _seed(target: Target, *, expired: int, live: int) -> None:
    """``expired`` sessions from T0 (with one refresh, a denial and a watermark), and
    ``live`` sessions started just before ``LATER``."""

    async def work(rig: Rig) -> None:
        for start in range(0, expired, 200):
            await asyncio.gather(
                *(rig.auth.issue(f"old{i % 9}") for i in range(start, min(expired, start + 200)))
            )
        pair = await rig.auth.issue("old0")
        await rig.auth.refresh(pair.refresh_token)
        await rig.auth.revoke(pair.access_token)  # a denial until the access token's exp
        await rig.auth.revoke_subject("old1")  # a watermark at T0
        rig.clock.now = LATER - 60
        for i in range(live):
            await rig.auth.issue(f"new{i}")

    with_authority(target, work)


def test_dry_run_counts_and_changes_nothing(target: Target) -> None:
    _seed(target, expired=30, live=3)
    ran = tokenlife("purge", "--store", target.url, "--dry-run", *PURGE_ARGS, "--json", now=LATER)
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert list(doc) == [
        "store", "dry_run", "cutoffs", "sessions", "refresh_tokens", "denials", "watermarks",
        "batches",
    ]  # fmt: skip
    assert (doc["dry_run"], doc["sessions"], doc["denials"], doc["batches"]) == (True, 31, 1, 0)
    # The watermark is kept until no token it covers can be alive: T0 + session_ttl.
    assert doc["watermarks"] == 1
    assert doc["refresh_tokens"] == (None if target.kind == "redis" else 32)
    assert doc["cutoffs"]["sessions_before"]["iso"] == "2027-01-15T09:55:00Z"
    assert sum(len(stored_sessions(target, f"old{i}")) for i in range(9)) == 31
    text = tokenlife("purge", "--store", target.url, "--dry-run", *PURGE_ARGS, now=LATER)
    assert text.out.startswith(f"Dry run on {target.url}: purge would remove 31 expired sessions")
    assert "1 access-token denial and 1 subject watermark" in text.out


def test_purge_removes_what_the_dry_run_counted(target: Target) -> None:
    _seed(target, expired=45, live=4)
    dry = tokenlife("purge", "--store", target.url, "--dry-run", *PURGE_ARGS, "--json", now=LATER)
    real = tokenlife(
        "purge", "--store", target.url, "--batch", "10", *PURGE_ARGS, "--json", now=LATER
    )
    assert real.code == 0, real.err
    assert real.err == ""  # no progress bar unless stderr is a terminal
    counted, done = dry.json(), real.json()
    assert (done["dry_run"], done["sessions"], done["batches"]) == (False, 46, 5)
    assert counted["sessions"] == done["sessions"]
    assert all(stored_sessions(target, f"old{i}") == [] for i in range(9))
    assert all(len(stored_sessions(target, f"new{i}")) == 1 for i in range(4))  # live: kept
    after = tokenlife("purge", "--store", target.url, "--dry-run", *PURGE_ARGS, "--json", now=LATER)
    assert (after.json()["sessions"], after.json()["denials"]) == (0, 0)


def test_default_leeway_and_ttl_keep_more(target: Target) -> None:
    """Defaults are the safe side: 300 s leeway, a 30-day watermark horizon."""
    _seed(target, expired=5, live=0)
    just_after = T0 + 3600 + 100  # expired 100 s ago: inside the default leeway
    doc = tokenlife("purge", "--store", target.url, "--dry-run", "--json", now=just_after).json()
    assert (doc["sessions"], doc["watermarks"]) == (0, 0)
    doc = tokenlife("purge", "--store", target.url, "--dry-run", "--json", now=LATER).json()
    assert (doc["sessions"], doc["watermarks"]) == (6, 0)


def test_text_output_of_a_real_purge(target: Target) -> None:
    _seed(target, expired=3, live=1)
    ran = tokenlife("purge", "--store", target.url, *PURGE_ARGS, now=LATER)
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Purged 4 expired sessions")
    assert ran.out.rstrip().endswith(f"from {target.url} in 1 batch.")


def _run_on_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "tokenlife_cli", *args],
            stdout=subprocess.PIPE,
            stderr=follower,
            env=env,
            text=True,
        )
        os.close(follower)
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
        stdout, _ = process.communicate(timeout=120)
    finally:
        os.close(leader)
    return process.returncode, stdout, screen.decode()


def test_progress_bar_on_a_terminal(target: Target, tmp_path: Path) -> None:
    _seed(target, expired=599, live=0)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENLIFE_")}
    env["TOKENLIFE_NOW"] = repr(LATER)
    args = ["purge", "--store", target.url, "--batch", "150", *PURGE_ARGS]
    code, stdout, screen = _run_on_a_terminal(args, env)
    assert code == 0, screen
    updates = screen.split("\r\x1b[2K")[1:]
    assert [u.split("]")[1].split()[:2] for u in updates] == [
        ["25%", "150/600"],
        ["50%", "300/600"],
        ["75%", "450/600"],
        ["100%", "600/600"],
    ]
    assert updates[-1].endswith("sessions\r\n")
    assert stdout.startswith("Purged 600 expired sessions")


def test_a_store_that_cannot_be_counted(
    target: Target, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An adapter whose layout moved: the dry run refuses in one line, a real purge
    still runs (without totals). In-process, to swap the counter out."""
    from tokenlife_cli import _purgecount, main

    def moved(*args: object) -> NoReturn:
        raise _purgecount.CountUnavailable("this adapter keeps its queues elsewhere")

    monkeypatch.setattr(_purgecount, "_count_sqlite", moved)
    monkeypatch.setattr(_purgecount, "_count_redis", moved)
    monkeypatch.setattr(_purgecount, "_count_postgres", moved)
    monkeypatch.setenv("TOKENLIFE_NOW", repr(LATER))
    _seed(target, expired=3, live=0)
    assert main(["purge", "--store", target.url, "--dry-run", *PURGE_ARGS]) == 1
    captured = capsys.readouterr()
    assert captured.err == "tokenlife: error: this adapter keeps its queues elsewhere\n"
    assert main(["purge", "--store", target.url, *PURGE_ARGS, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["sessions"], doc["denials"], doc["watermarks"]) == (4, None, None)
