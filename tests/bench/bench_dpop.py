"""A DPoP-protected request against the same request with a bearer token (RFC 9449).

Both go through the web layer's :meth:`Gate.authenticate`, strict mode, the
verify cache on (a client repeats its access token), on the memory store:

- **bearer**: ``Authorization: Bearer <token>`` of an unbound session.
- **DPoP**: ``Authorization: DPoP <token>`` of a session bound to an ES256
  key, with a fresh proof (its own ``jti``, the token's ``ath``): one
  ES256 verify — the proof's key is parsed once and cached by its header —
  plus the proof's one-time claim in the store.

Proofs are signed ahead of time, a pool of them in setup, so the rows time
the server alone; a proof is never presented twice (that would be refused).
The SQLite group shows what the claim costs when it is a durable write:
one more batched commit per request.

A third contender, **bearer + one ES256 verify**, is the floor the target's
own note names: the bearer request plus the one signature check a proof
needs, straight on ``cryptography`` (a DER signature made ahead, no parsing,
no JSON, no claim). DPoP cannot be cheaper than it; where that floor alone
misses the target, the target is out of reach in this process and the row
says by how much.

The HTTP group is the target's own request: ``GET /protected`` over real
HTTP (uvicorn, the Litestar plugin, strict mode, memory store), loaded by
wrk as in ``bench_http.py``, one server answering both the bearer token and
the DPoP-bound one. Each DPoP run sends proofs signed beforehand, each once
(``wrk_dpop.lua``); the server accepts proofs up to an hour old, so the
whole run stays inside the window.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tests.dpop_client import DPoPClient
from tokenlife import KeySet, Policy, Store, TokenAuthority
from tokenlife.testing import FrozenClock
from tokenlife.web import DPoPConfig, Gate, HttpRequest, WebConfig
from tokenlife_memory import MemoryStore

from . import bench_http as http
from ._harness import Group, Op, Skip, Target

HOST = "api.example"
PATH = "/orders"
URL = f"https://{HOST}{PATH}"
#: Proofs signed in setup: more than a full run presents (31 rounds of ~30 ms batches).
POOL = 24_000
#: A durable write per request: a few hundred a second at most.
SQLITE_POOL = 4_000


class Rig:
    """One authority and gate, a bearer session and a DPoP-bound one."""

    def __init__(self, open_store: Callable[[], Store], pool: int) -> None:
        self._open_store = open_store
        self._pool_size = pool
        self.key = DPoPClient("ES256")

    async def setup(self) -> None:
        self.clock = FrozenClock()
        self.store = self._open_store()
        await self.store.__aenter__()
        self.authority = TokenAuthority(
            self.store,
            keys=KeySet.from_secret("bench-only-hs256-secret-0123456789abcdef"),
            policy=Policy(access_ttl=3600),
            clock=self.clock,
        )
        self.gate = Gate(self.authority, WebConfig(dpop=DPoPConfig(origin=f"https://{HOST}")))
        bearer = await self.authority.issue("alice")
        bound = await self.authority.issue("alice", jkt=self.key.jkt)
        header = (b"authorization", b"Bearer " + bearer.access_token.encode())
        self.bearer_request = HttpRequest("GET", PATH, [(b"host", HOST.encode()), header])
        token = bound.access_token
        self._auth = (b"authorization", b"DPoP " + token.encode())
        now = self.clock()
        self._proofs = iter(
            [
                self.key.proof("GET", URL, iat=now, access_token=token).encode()
                for _ in range(self._pool_size)
            ]
        )
        self._token = token
        # The floor's signature check: a DER signature over a proof-sized message.
        self._floor_message = b"x" * 300
        self._floor_signature = self.key._ec.sign(self._floor_message, ec.ECDSA(hashes.SHA256()))
        self._floor_public = self.key._ec.public_key()
        self._floor_scheme = ec.ECDSA(hashes.SHA256())
        for request in (self.bearer_request, self._dpop_request()):
            found = await self.gate.authenticate(request)
            assert found.claims.subject == "alice"
        await self.floor()

    async def teardown(self) -> None:
        await self.store.__aexit__(None, None, None)

    def _dpop_request(self) -> HttpRequest:
        proof = next(self._proofs, None)
        if proof is None:  # the pool ran dry: sign one here (slower, never a replay)
            proof = self.key.proof("GET", URL, iat=self.clock(), access_token=self._token).encode()
        return HttpRequest("GET", PATH, [(b"host", HOST.encode()), self._auth, (b"dpop", proof)])

    async def bearer(self) -> None:
        await self.gate.authenticate(self.bearer_request)

    async def dpop(self) -> None:
        await self.gate.authenticate(self._dpop_request())

    async def floor(self) -> None:
        await self.gate.authenticate(self.bearer_request)
        self._floor_public.verify(self._floor_signature, self._floor_message, self._floor_scheme)


def _sqlite_store() -> Callable[[], Store]:
    try:
        from tokenlife_sqlite import SQLiteStore
    except ImportError as exc:  # pragma: no cover
        raise Skip(f"tokenlife-sqlite is not installed ({exc})") from None
    workdir = TemporaryDirectory(prefix="tokenlife-bench-dpop-")
    files = itertools.count()

    def open_store() -> Store:
        store: Store = SQLiteStore(Path(workdir.name) / f"dpop-{next(files)}.db")
        return store

    open_store.workdir = workdir  # type: ignore[attr-defined]  # kept alive with the rig
    return open_store


def _group(title: str, rig: Rig, *, target: bool) -> Group:
    ops: dict[str, Callable[[], Awaitable[None]]] = {
        "bearer": rig.bearer,
        "DPoP": rig.dpop,
        "bearer + one ES256 verify (the floor)": rig.floor,
    }
    return Group(
        title,
        baseline="bearer",
        contenders=ops,
        # At most 1.5x the bearer request's time: at least 1/1.5 of its speed.
        targets=[Target("DPoP", round(1 / 1.5, 3))] if target else [],
        setup=rig.setup,
        teardown=rig.teardown,
        packages=("tokenlife", "cryptography"),
    )


# -- over HTTP ----------------------------------------------------------------------

DPOP_LUA = Path(__file__).resolve().parent / "wrk_dpop.lua"
#: wrk runs a full run makes: 31 rounds, the calibration and the smoke call.
HTTP_RUNS = 36
#: Proofs per run: wrk may send up to one request per connection past the count.
PROOFS_PER_RUN = http.REQUESTS + 4 * http.CONNECTIONS


def http_app() -> Any:
    """The server (``uvicorn --factory``, via bench_http's ``make_app``)."""
    from litestar import Litestar, MediaType, get

    from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin

    authority = TokenAuthority(
        MemoryStore(), keys=KeySet.from_secret(http.SECRET), policy=Policy(revocation="strict")
    )
    dpop = DPoPConfig(max_age=3600, algorithms=("ES256",))
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority, refresh_path=None, dpop=dpop))

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return http.BODY

    async def mint() -> None:
        bearer = await authority.issue("alice", scopes=("read",))
        bound = await authority.issue("bob", scopes=("read",), jkt=os.environ["BENCH_DPOP_JKT"])
        http._write_tokens([bearer.access_token, bound.access_token])

    return Litestar([protected], plugins=[plugin], on_startup=[mint], logging_config=None)


def _http_group() -> Group:
    http._requirements()
    key = DPoPClient("ES256")
    title = "dpop: HTTP GET /protected (Litestar), one token"
    tallies = {"bearer": http.Tally(), "DPoP": http.Tally()}
    state: dict[str, Any] = {"files": []}

    def proofs_file(workdir: Path, server: http.Server, token: str, n: int) -> Path:
        url = f"http://127.0.0.1:{server.port}/protected"
        now = time.time()
        lines = [token] + [
            key.proof("GET", url, iat=now, access_token=token) for _ in range(PROOFS_PER_RUN)
        ]
        path = workdir / f"proofs-{n}.txt"
        path.write_text("\n".join(lines) + "\n")
        return path

    async def setup() -> None:
        workdir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-dpop-"))
        os.environ["BENCH_DPOP_JKT"] = key.jkt
        server = http.Server("dpop", workdir)
        server.start()
        token = server.tokens.read_text().splitlines()[1]
        state.update(workdir=workdir, server=server, token=token)
        state["files"] = [proofs_file(workdir, server, token, n) for n in range(HTTP_RUNS)]

    def bearer() -> None:
        server = state["server"]
        http.run_wrk(server, "/protected", server.one_token, tallies["bearer"])

    def dpop() -> None:
        files: list[Path] = state["files"]
        server = state["server"]
        if not files:  # more runs than planned: sign one more file (timed, so noted here)
            files.append(proofs_file(state["workdir"], server, state["token"], -len(files)))
        http.run_wrk(server, "/protected", files.pop(0), tallies["DPoP"], DPOP_LUA)

    async def teardown() -> None:
        if "server" in state:
            state["server"].stop()
        if "workdir" in state:
            shutil.rmtree(state["workdir"], ignore_errors=True)
        http._print_detail(title, tallies, targets, "bearer")

    targets = [Target("DPoP", round(1 / 1.5, 3))]
    ops: dict[str, Op] = {"bearer": bearer, "DPoP": dpop}
    return Group(
        title,
        baseline="bearer",
        contenders=ops,
        targets=targets,
        setup=setup,
        teardown=teardown,
        packages=(*http.PACKAGES, "cryptography"),
    )


def groups() -> list[Group]:
    try:
        over_http = [_http_group()]
    except Skip:
        over_http = []  # wrk or the HTTP peers are missing: the in-process groups still run
    return [
        *over_http,
        _group("dpop: a protected request (memory store)", Rig(MemoryStore, POOL), target=True),
        _group(
            "dpop: a protected request (SQLite store, the claim is a durable write)",
            Rig(_sqlite_store(), SQLITE_POOL),
            target=False,
        ),
    ]
