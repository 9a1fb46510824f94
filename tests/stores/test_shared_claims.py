"""A DPoP proof replayed to another server process is refused: claims are shared.

Two store instances on one SQLite file, Redis server or PostgreSQL schema —
in one process, then in two processes racing on the same keys — never both
win a key. (The memory store lives in one process: nothing to share.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.backends import Backend
from tests.stores._claimer import T0, open_store
from tokenlife.store import Store

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
COUNT = 300


def _where(backend: Backend, workdir: Path) -> str:
    if backend.name == "sqlite":
        return str(workdir / "shared.db")
    if backend.name == "redis":
        from tests.stores import backend_redis

        return f"{backend_redis._url()}|{backend_redis.prefix_for(workdir)}"
    from tests.stores import backend_postgres

    return f"{backend_postgres.url()}|{backend_postgres.schema_for(workdir)}"


def _shared(backend: Backend, workdir: Path) -> AbstractAsyncContextManager[Store]:
    if backend.name == "memory":
        pytest.skip("the memory store lives in one process: nothing is shared")
    return open_store(backend.name, _where(backend, workdir))


async def test_two_instances_on_one_store_share_claims(backend: Backend, tmp_path: Path) -> None:
    async with _shared(backend, tmp_path) as first:
        assert await first.claim_once("proof-1", until=T0 + 60, now=T0)
        async with _shared(backend, tmp_path) as second:
            assert not await second.claim_once("proof-1", until=T0 + 60, now=T0 + 1)
            assert await second.claim_once("proof-2", until=T0 + 60, now=T0 + 1)
        assert not await first.claim_once("proof-2", until=T0 + 60, now=T0 + 2)


def test_two_processes_racing_on_the_same_proofs(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "memory":
        pytest.skip("the memory store lives in one process: nothing is shared")
    where = _where(backend, tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.stores._claimer", backend.name, where, str(COUNT)]
    # One opens (and creates or migrates) the store first, so the race is on the claims.
    children = []
    for _ in range(2):
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.communicate(timeout=30)
        children.append(child)
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    won = []
    for child in children:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        won.append(set(json.loads(out.strip())))
    assert not won[0] & won[1], f"both processes won {sorted(won[0] & won[1])[:5]}"
    assert won[0] | won[1] == {f"k{i}" for i in range(COUNT)}, "every key was won once"
