"""RFC 7662 introspection against the strict-verify protected route, in one app and one run.

Both go through the same :class:`tokenlife.web.Gate` on the memory store
(the web layer every adapter translates): a ``GET /protected`` with the
bearer token (``authenticate``: signature, claims, one store read), and a
``POST /oauth/introspect`` for the same token (a resource server's Basic
credential checked in constant time, the form parsed, signature, claims,
one store read, the RFC 7662 members). Target: introspection at least 0.7 times the
protected route's throughput.

Two groups. The HTTP group is the target as stated, the two routes of one
app: a Litestar app with the plugin (strict mode, memory store, the
introspection route on), under uvicorn, loaded by wrk as in
``bench_http.py``, ``GET /protected`` with a bearer token against ``POST
/oauth/introspect`` for the same token (``wrk_introspect.lua``, which
counts an answer good only if it is ``"active":true``), judged on the
server's CPU time per request. The in-process group compares the web
layer's two calls alone, where the framework's share (the same for both
routes) is left out: the stricter ratio of the two.

Quick: ``nox -s bench -- --only oauth``.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.web import Gate, HttpRequest, WebConfig
from tokenlife_memory import MemoryStore

from . import bench_http as http
from ._harness import Group, Op, Skip, Target

SECRET = "bench-oauth-hs256-secret-0123456789abcdefghijkl"
CLIENT_SECRET = "bench-resource-server-secret-0123"


class Rig:
    def __init__(self) -> None:
        self.store = MemoryStore()
        # verify cache off on both sides: every call checks the signature.
        self.authority = TokenAuthority(
            self.store, keys=KeySet.from_secret(SECRET), policy=Policy(), verify_cache=0
        )
        self.gate = Gate(
            self.authority,
            WebConfig(
                introspection_path="/oauth/introspect", introspection_clients={"rs": CLIENT_SECRET}
            ),
        )
        self.protected = HttpRequest.build("GET", "/protected")
        self.introspection = self.protected

    async def setup(self) -> None:
        await self.store.__aenter__()
        pair = await self.authority.issue("alice", scopes=("read",))
        token = pair.access_token
        self.protected = HttpRequest.build(
            "GET", "/protected", [("authorization", f"Bearer {token}")]
        )
        basic = base64.b64encode(f"rs:{CLIENT_SECRET}".encode()).decode()
        self.introspection = HttpRequest.build(
            "POST",
            "/oauth/introspect",
            [
                ("authorization", f"Basic {basic}"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            body=f"token={token}".encode(),
        )
        assert (await self.gate.authenticate(self.protected)).claims.subject == "alice"
        reply = await self.gate.introspect(self.introspection)
        assert reply.status == 200 and b'"active":true' in reply.body, reply.body

    async def verify(self) -> None:
        await self.gate.authenticate(self.protected)

    async def introspect(self) -> None:
        await self.gate.introspect(self.introspection)


# -- over HTTP ----------------------------------------------------------------------

INTROSPECT_LUA = Path(__file__).resolve().parent / "wrk_introspect.lua"
INTROSPECTION_PATH = "/oauth/introspect"
PROTECTED = "protected route (strict verify)"
INTROSPECTION = "introspection route"


def http_app() -> Any:
    """The server (``uvicorn --factory``, via bench_http's ``make_app``): both routes, one app."""
    from litestar import Litestar, MediaType, get

    from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin

    authority = TokenAuthority(
        MemoryStore(), keys=KeySet.from_secret(http.SECRET), policy=Policy(revocation="strict")
    )
    config = TokenLifeConfig(
        authority=authority,
        refresh_path=None,
        introspection_path=INTROSPECTION_PATH,
        introspection_clients={"rs": CLIENT_SECRET},
    )

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return http.BODY

    async def mint() -> None:
        http._write_tokens([(await authority.issue("alice", scopes=("read",))).access_token])

    return Litestar(
        [protected], plugins=[TokenLifePlugin(config)], on_startup=[mint], logging_config=None
    )


def _http_group() -> Group:
    http._requirements()
    title = "oauth: HTTP, introspection route vs the strict-verify protected route, one app"
    tallies = {PROTECTED: http.Tally(), INTROSPECTION: http.Tally()}
    state: dict[str, Any] = {}

    async def setup() -> None:
        workdir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-oauth-"))
        server = http.Server("oauth", workdir)
        server.start()
        basic = base64.b64encode(f"rs:{CLIENT_SECRET}".encode()).decode()
        forms = workdir / "introspect.txt"
        forms.write_text(f"{basic}\n{server.one_token.read_text()}")
        state.update(workdir=workdir, server=server, forms=forms)

    def protected() -> None:
        server = state["server"]
        http.run_wrk(server, "/protected", server.one_token, tallies[PROTECTED])

    def introspection() -> None:
        server = state["server"]
        http.run_wrk(
            server, INTROSPECTION_PATH, state["forms"], tallies[INTROSPECTION], INTROSPECT_LUA
        )

    async def teardown() -> None:
        if "server" in state:
            state["server"].stop()
        if "workdir" in state:
            shutil.rmtree(state["workdir"], ignore_errors=True)
        http._print_detail(title, tallies, targets, PROTECTED)

    targets = [Target(INTROSPECTION, 0.7)]
    ops: dict[str, Op] = {PROTECTED: protected, INTROSPECTION: introspection}
    return Group(
        title,
        baseline=PROTECTED,
        contenders=ops,
        targets=targets,
        setup=setup,
        teardown=teardown,
        packages=http.PACKAGES,
    )


def groups() -> list[Group]:
    rig = Rig()
    try:
        over_http = [_http_group()]
    except Skip:
        over_http = []  # wrk or the HTTP dependencies are missing: the in-process group runs
    return [
        *over_http,
        Group(
            "oauth: introspection (RFC 7662) vs the strict-verify protected route",
            baseline="strict verify (protected route)",
            contenders={
                "strict verify (protected route)": rig.verify,
                "introspection": rig.introspect,
            },
            targets=[Target("introspection", 0.7)],
            setup=rig.setup,
            packages=("tokenlife",),
        ),
    ]
