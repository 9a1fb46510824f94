"""RFC 7662 introspection against the strict-verify protected route, in one app and one run.

Both go through the same :class:`tokenlife.web.Gate` on the memory store
(the web layer every adapter translates): a ``GET /protected`` with the
bearer token (``authenticate``: signature, claims, one store read), and a
``POST /oauth/introspect`` for the same token (a resource server's Basic
credential checked in constant time, the form parsed, signature, claims,
one store read, the RFC 7662 members). Target: introspection at least 0.7 times the
protected route's throughput.

Quick: ``nox -s bench -- --only oauth``.
"""

from __future__ import annotations

import base64

from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.web import Gate, HttpRequest, WebConfig
from tokenlife_memory import MemoryStore

from ._harness import Group, Target

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


def groups() -> list[Group]:
    rig = Rig()
    return [
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
        )
    ]
