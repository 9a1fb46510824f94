"""A resource server's remote key set against a static ``KeySet``, plus its behaviour under attack.

Contenders verify the same RS256 access token:

- static KeySet (the baseline): the core's ``AccessVerifier`` on the issuer's
  public keys, loaded once (``await verify``, stateless).
- remote (warm): ``tokenlife_jwks.RemoteVerifier`` whose keys came from the
  issuer's JWKS over real HTTP (a stdlib server on 127.0.0.1) and are fresh.

Once with the verified-token cache off (every call checks the signature) and
once with it on (a token seen before). The checks run the real fetcher
against the same server with an injected clock: a flood of tokens naming
random ``kid``s, an issuer rotating, an issuer going down.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import msgspec

from tokenlife import (
    AccessVerifier,
    Codec,
    KeySet,
    KeySetUnavailableError,
    Policy,
    RemoteKeyPolicy,
    TokenError,
)
from tokenlife.testing import FrozenClock

from ._harness import Check, Group, Op, Skip, Target

try:
    from tests.adapters.jwks._issuer import Issuer, serving
    from tokenlife_jwks import RemoteKeySet, RemoteVerifier
except ImportError as exc:  # pragma: no cover
    raise Skip(f"tokenlife-jwks is not installed ({exc})") from None

ISSUER = "https://auth.example"
AUDIENCE = "api"
PACKAGES = ("tokenlife", "tokenlife-jwks", "httpx", "cryptography")
POLICY = RemoteKeyPolicy(algorithms=("RS256", "EdDSA"), min_interval=60, stale_window=3600)
FLOOD = 10_000


def _mint(keys: KeySet, now: float) -> str:
    codec = Codec(keys, issuer=ISSUER, audience=AUDIENCE)
    claims = {"sub": "alice", "sid": "s", "jti": uuid.uuid4().hex, "iat": int(now)}
    return codec.encode({**claims, "exp": int(now) + 86400})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _random_kid_token(now: float) -> str:
    """A token naming a made-up ``kid`` (its signature is junk: it must never be tried)."""
    header = {"alg": "RS256", "kid": uuid.uuid4().hex, "typ": "at+jwt"}
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": int(now) + 600}
    return ".".join(
        (_b64(msgspec.json.encode(header)), _b64(msgspec.json.encode(payload)), _b64(b"x" * 256))
    )


class _Scenario:
    """A server and a verifier on an injected clock, for one check."""

    def __init__(self, stack: ExitStack, keys: KeySet) -> None:
        self.issuer: Issuer = stack.enter_context(serving())
        self.issuer.publish(keys)
        self.clock = FrozenClock(time.time())
        self.source = RemoteKeySet(self.issuer.url, issuer=ISSUER, policy=POLICY, clock=self.clock)
        self.verifier = RemoteVerifier(self.source, audience=AUDIENCE)


def _scenario() -> Iterator[tuple[ExitStack, Callable[[KeySet], _Scenario]]]:
    with ExitStack() as stack:
        yield stack, lambda keys: _Scenario(stack, keys)


async def _flood() -> tuple[str, bool]:
    keys = KeySet.generate("RS256", kid="live")
    for stack, make in _scenario():
        s = make(keys)
        await s.verifier.verify(_mint(keys, s.clock()))  # warm: the first fetch
        accepted, started = 0, time.perf_counter()
        for _ in range(FLOOD):
            try:
                await s.verifier.verify(_random_kid_token(s.clock()))
                accepted += 1
            except TokenError:
                pass
            s.clock.advance(1 / FLOOD)  # the whole flood inside one second
        elapsed = time.perf_counter() - started
        fetches = s.issuer.requests
        await s.source.aclose()
        stack.close()
        shown = f"{fetches} fetches, {accepted} accepted ({elapsed * 1e6 / FLOOD:.1f} µs each)"
        return shown, fetches <= 2 and accepted == 0
    raise AssertionError("unreachable")


async def _rotation() -> tuple[str, bool]:
    old, new = KeySet.generate("RS256", kid="old"), KeySet.generate("EdDSA", kid="new")
    for stack, make in _scenario():
        s = make(old)
        start = s.clock()
        await s.verifier.verify(_mint(old, start))
        s.issuer.publish(old, new)  # the issuer rotates just after our fetch
        token, accepted_after = _mint(new, start), None
        while s.clock() - start <= 2 * POLICY.min_interval:
            try:
                await s.verifier.verify(token)
                accepted_after = s.clock() - start
                break
            except TokenError:
                s.clock.advance(1.0)
        await s.source.aclose()
        stack.close()
        ok = accepted_after is not None and accepted_after <= POLICY.min_interval
        return f"new key accepted after {accepted_after} s, {s.issuer.requests} fetches", ok
    raise AssertionError("unreachable")


async def _stale() -> tuple[str, bool]:
    keys = KeySet.generate("RS256", kid="live")
    for stack, make in _scenario():
        s = make(keys)
        start = s.clock()
        await s.verifier.verify(_mint(keys, start))
        s.issuer.down = True
        window = POLICY.default_max_age + POLICY.stale_window
        s.clock.advance(window - 1)
        try:
            await s.verifier.verify(_mint(keys, start))
            inside = True
        except TokenError:
            inside = False
        s.clock.advance(1)
        try:
            await s.verifier.verify(_mint(keys, start))
            closed = False
        except KeySetUnavailableError:
            closed = True
        await s.source.aclose()
        stack.close()
        shown = (
            f"verified {'yes' if inside else 'no'} at {window - 1:g} s with the issuer down, "
            f"{'503' if closed else 'still verifying'} at {window:g} s"
        )
        return shown, inside and closed
    raise AssertionError("unreachable")


def groups() -> list[Group]:
    keys = KeySet.generate("RS256")
    public = KeySet.from_jwks(keys.public_jwks())
    state: dict[str, Any] = {}
    token = _mint(keys, time.time())

    def make(cache: int) -> tuple[Group, Callable[[], Any]]:
        stack = ExitStack()
        policy = Policy(issuer=ISSUER, audience=AUDIENCE, revocation="stateless")
        static = AccessVerifier(public, policy=policy, verify_cache=cache)

        async def setup() -> None:
            issuer = stack.enter_context(serving())
            issuer.publish(keys)
            issuer.headers = {"Cache-Control": "max-age=86400"}
            source = RemoteKeySet(issuer.url, issuer=ISSUER, policy=POLICY)
            remote = RemoteVerifier(source, audience=AUDIENCE, verify_cache=cache)
            state["source"], state["remote"] = source, remote
            for verifier in (static, remote):
                if (await verifier.verify(token)).sub != "alice":
                    raise AssertionError("a contender failed to verify")
            if issuer.requests != 1:
                raise AssertionError(f"warm-up took {issuer.requests} fetches")

        async def teardown() -> None:
            await state["source"].aclose()
            stack.close()

        def remote_verify() -> Any:
            return state["remote"].verify(token)

        contenders: dict[str, Op] = {
            "static KeySet": lambda: static.verify(token),
            "remote (warm)": remote_verify,
        }
        title = "off" if cache == 0 else "on"
        group = Group(
            f"remote keys: RS256 verify, cache {title}",
            baseline="static KeySet",
            contenders=contenders,
            targets=(Target("remote (warm)", 0.95),),
            setup=setup,
            teardown=teardown,
            packages=PACKAGES,
            checks=(
                Check(
                    f"{FLOOD:,} random-kid tokens in one second: ≤ 2 fetches, 0 accepted", _flood
                ),
                Check(
                    f"rotation accepted within min_interval ({POLICY.min_interval:g} s)", _rotation
                ),
                Check("issuer down: cached keys verify for the stale window, then 503", _stale),
            )
            if cache == 0
            else (),
        )
        return group, remote_verify

    return [make(0)[0], make(16384)[0]]
