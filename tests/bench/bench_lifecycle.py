"""The lifecycle on the memory store: issue, verify (strict and stateless), refresh.

- Issue a pair (session stored, two tokens signed) against AuthX creating the
  same two tokens with no store at all. Target: ≥ 5x AuthX.
- Strict verify (one store read) against stateless verify, each doing the full
  signature and claim checks (verify cache off): strict may cost at most 1.2x,
  i.e. run at ≥ 0.83 of stateless speed. The same pair with the verify cache
  on (a token seen again) is reported beside it, for information.
- Refresh with rotation (verify, atomic rotate, two tokens signed): reported in
  ops/s; the target is ≥ 20,000 per second on one core.
"""

from __future__ import annotations

from typing import Any

from tokenlife import KeySet, Policy, TokenAuthority, TokenPair
from tokenlife_memory import MemoryStore

from ._harness import Group, Skip, Target

try:
    from authx import AuthX, AuthXConfig
except ImportError as exc:  # pragma: no cover
    raise Skip(f"AuthX is missing ({exc}): install the 'bench' dependency group") from None

SECRET = "bench-only-hs256-secret-0123456789abcdef"
ISSUER = "https://api.example"
AUDIENCE = "api"


class Lifecycle:
    """One authority on a memory store, with a pool of tokens to work through."""

    def __init__(self, *, verify_cache: int = 0) -> None:
        self.store = MemoryStore()
        policy = Policy(issuer=ISSUER, audience=AUDIENCE)
        self.auth = TokenAuthority(
            self.store,
            keys=KeySet.from_secret(SECRET),
            policy=policy,
            verify_cache=verify_cache,
        )
        self.pair: TokenPair | None = None
        self.refreshable: list[str] = []
        self.authx: AuthX[Any] = AuthX(
            config=AuthXConfig(
                JWT_ALGORITHM="HS256",
                JWT_SECRET_KEY=SECRET,
                JWT_ENCODE_ISSUER=ISSUER,
                JWT_ENCODE_AUDIENCE=AUDIENCE,
                JWT_TOKEN_LOCATION=["headers"],
            )
        )

    async def setup(self) -> None:
        self.pair = await self.auth.issue("alice", scopes=("read",))
        await self.verify_strict()
        self.verify_stateless()
        self.authx_pair()

    async def issue(self) -> None:
        await self.auth.issue("alice", scopes=("read",))

    def authx_pair(self) -> tuple[str, str]:
        return (
            self.authx.create_access_token(uid="alice", fresh=True, scopes=["read"]),
            self.authx.create_refresh_token(uid="alice", scopes=["read"]),
        )

    async def verify_strict(self) -> None:
        assert self.pair is not None
        await self.auth.verify(self.pair.access_token)

    def verify_stateless(self) -> None:
        assert self.pair is not None
        self.auth.verify_stateless(self.pair.access_token)

    async def refresh(self) -> None:
        # Each rotation consumes its token: carry on down the chain.
        if not self.refreshable:
            self.refreshable.append((await self.auth.issue("bob")).refresh_token)
        pair = await self.auth.refresh(self.refreshable.pop())
        self.refreshable.append(pair.refresh_token)

    async def verify_baseline(self) -> None:
        """A bare await of a stateless verify: what strict mode adds is the store read."""
        self.verify_stateless()


def groups() -> list[Group]:
    rig = Lifecycle()
    cached = Lifecycle(verify_cache=1024)
    return [
        Group(
            "lifecycle: issue a pair",
            baseline="AuthX (2 tokens, no store)",
            contenders={
                "tokenlife (memory store)": rig.issue,
                "AuthX (2 tokens, no store)": rig.authx_pair,
            },
            targets=[Target("tokenlife (memory store)", 5.0)],
            setup=rig.setup,
            packages=("tokenlife", "authx"),
        ),
        Group(
            "lifecycle: verify an access token (full checks every time)",
            baseline="stateless",
            contenders={
                "stateless": rig.verify_baseline,
                "strict (memory store)": rig.verify_strict,
            },
            # strict may take at most 1.2x the time: at least 1/1.2 of the speed.
            targets=[Target("strict (memory store)", round(1 / 1.2, 3))],
            setup=rig.setup,
        ),
        Group(
            "lifecycle: verify the same token again (verify cache on)",
            baseline="stateless",
            contenders={
                "stateless": cached.verify_baseline,
                "strict (memory store)": cached.verify_strict,
            },
            setup=cached.setup,
        ),
        Group(
            "lifecycle: refresh with rotation (target ≥ 20,000/s)",
            baseline="tokenlife (memory store)",
            contenders={"tokenlife (memory store)": rig.refresh},
            setup=rig.setup,
        ),
    ]
